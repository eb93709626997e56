"""The scheduled workflow end to end: the trigger function invoked as the schedule does, the state machine
of statemachine/ executed by the emulator's Step Functions engine, every Task a real function binary."""

import datetime
import json
import os

import stack
import workflow

QUICK = {"fsxWaitSeconds": 1, "backupPollSeconds": 1, "ebsPollSeconds": 1, "efsPollSeconds": 1}


def run(timing=None, dry_run=False, time=None):
    """Invokes the trigger with a scheduled event and waits for the execution; returns the summary."""
    event = workflow.scheduled_event(dry_run, None)
    event["timing"] = {**QUICK, **(timing or {})}
    if time:
        event["time"] = time
    started = workflow.invoke(stack.client("lambda", os.environ["AWS_ENDPOINT_URL_LAMBDA"]), "trigger", event)
    sfn = stack.client("stepfunctions")
    execution = workflow.wait_for(sfn, started["executionArn"], timeout=300)
    return workflow.summarize(sfn, started, execution)


def target(summary, target_id):
    return next(t for t in summary["targets"] if t["targetId"] == target_id)


def kept(result):
    return {k["id"]: k["reason"] for k in result["cleanup"]["kept"]}


def states_entered(summary):
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=summary["execution"])
    return [
        e["stateEnteredEventDetails"]["name"] for p in pages for e in p["events"] if "stateEnteredEventDetails" in e
    ]


def test_happy_path_backs_up_every_target_and_deletes_only_our_expired_backups(aws):
    fs = stack.create_file_system(aws)
    old = stack.create_backup(aws, fs, 20, ours=True)
    young = stack.create_backup(aws, fs, 2, ours=True)
    foreign = stack.create_backup(aws, fs, 30, ours=False)
    untagged = stack.create_file_system(aws, tagged=False)
    untouched = stack.create_backup(aws, untagged, 90, ours=True)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    assert [t["targetId"] for t in summary["targets"]] == [fs]
    result = target(summary, fs)
    [new] = result["created"]
    assert result["cleanup"]["deleted"] == [old]
    assert kept(result) == {young: "TooYoung", foreign: "NotOurs", new: "AmongNewest"}
    assert stack.backup_ids(aws, fs) == {new, young, foreign}
    assert stack.backup_ids(aws, untagged) == {untouched}
    assert aws.describe_backups(BackupIds=[new])["Backups"][0]["Lifecycle"] == "AVAILABLE"


def test_a_backup_in_progress_is_waited_for_then_the_run_proceeds(aws):
    fs = stack.create_file_system(aws)
    stack.script_next_backups(fs, [{"lifecycle": "AVAILABLE", "seconds": 4}])
    aws.create_backup(FileSystemId=fs)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    assert states_entered(summary).count("CheckBackupInProgress") >= 2
    assert "Wait" in states_entered(summary)
    assert len(target(summary, fs)["created"]) == 1


def test_a_timed_out_wait_fails_that_target_only(aws):
    stuck = stack.create_file_system(aws)
    healthy = stack.create_file_system(aws)
    stack.script_next_backups(stuck, [{"lifecycle": "AVAILABLE", "seconds": 120}])
    aws.create_backup(FileSystemId=stuck)
    old = stack.create_backup(aws, healthy, 20, ours=True)

    summary = run(timing={"fsxMaxWaitAttempts": 2})

    assert summary["status"] == "FAILED"
    assert summary["failedTargets"] == [stuck]
    assert stuck in summary["cause"]
    assert target(summary, stuck)["error"] == "BackupTimeout"
    assert target(summary, healthy)["cleanup"]["deleted"] == [old]


def test_a_failed_new_backup_deletes_nothing_of_that_file_system(aws):
    fs = stack.create_file_system(aws)
    old = stack.create_backup(aws, fs, 20, ours=True)
    stack.script_next_backups(fs, [{"lifecycle": "FAILED", "seconds": 0}])

    summary = run()

    assert summary["status"] == "FAILED"
    assert target(summary, fs)["error"] == "BackupFailed"
    assert old in stack.backup_ids(aws, fs)


def test_an_empty_inventory_succeeds_with_nothing_to_do(aws):
    stack.create_file_system(aws, tagged=False)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    assert summary["targets"] == [] and summary["failedTargets"] == []


def test_a_dry_run_reports_the_plan_and_changes_nothing(aws):
    fs = stack.create_file_system(aws)
    old = stack.create_backup(aws, fs, 20, ours=True)

    summary = run(dry_run=True)

    assert summary["status"] == "SUCCEEDED", summary
    assert target(summary, fs)["cleanup"]["deleted"] == [old]
    assert stack.backup_ids(aws, fs) == {old}


def test_a_retried_schedule_tick_starts_no_second_run(aws):
    fs = stack.create_file_system(aws)
    tick = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    first = run(time=tick)
    second = run(time=tick)

    assert first["execution"] == second["execution"]
    assert len(stack.backup_ids(aws, fs)) == 1


def test_the_run_command_prints_the_summary_as_json(aws, capsys, monkeypatch):
    fs = stack.create_file_system(aws)
    monkeypatch.setattr("sys.argv", ["workflow.py", "--poll-seconds", "1", "--json"])

    assert workflow.main() == 0

    summary = json.loads(capsys.readouterr().out)
    assert [t["targetId"] for t in summary["targets"]] == [fs]
