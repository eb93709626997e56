"""The operator's command line (`snapmgmt`, crates/cli) against the local stack, as an operator runs it: it
finds the stack by name through CloudFormation, reads the runs, a run's report and every target's status, and
acts with the template's OperatorReadOnlyPolicy alone (its credentials are that role's; the emulator enforces
it). Exit codes: 0 well, 1 needs attention, 2 a wrong command line, 3 no answer."""

import json
import os
import subprocess
import time

import conftest
import deploy
import iam_template
import iam_usage
import stack
from test_workflow import run

BINARY = iam_template.ROOT / "target" / "debug" / "snapmgmt"


def snapmgmt(*args: str, stack_id: str = stack.STACK_ID, who: str = "operator") -> subprocess.CompletedProcess:
    """The command line, run by the operator (`who`: "restorer", with the restore policy too) of the stack
    `stack_id` names, in that stack's Region."""
    env = {
        "PATH": os.environ["PATH"],
        "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
        "AWS_REGION": stack_id.split("@")[1],
        "AWS_ACCESS_KEY_ID": iam_template.operator_key(stack_id, who),
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run([str(BINARY), *args], env=env, capture_output=True, text=True, timeout=120)


def test_runs_report_and_status_answer_an_operator_with_the_read_only_policy(aws):
    target = stack.create_file_system(aws)
    untagged = stack.create_file_system(aws, tagged=False)
    stack.create_backup(aws, untagged, 30, ours=True)
    stack.create_backup(aws, untagged, 40, ours=True)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    run_id = summary["execution"].rsplit(":", 1)[-1]
    runs = snapmgmt("--json", "runs")
    assert runs.returncode == 0, runs.stderr
    [latest] = json.loads(runs.stdout)
    assert (latest["run"], latest["status"], latest["dryRun"]) == (run_id, "SUCCEEDED", False)
    assert latest["totals"]["targets"] == 1 and latest["totals"]["created"] == 1
    table = snapmgmt("runs")
    assert table.returncode == 0 and run_id in table.stdout and "SUCCEEDED" in table.stdout

    report = snapmgmt("--json", "report", "last")
    assert report.returncode == 0, report.stderr
    full = json.loads(report.stdout)
    assert full["runId"] == run_id and [r["targetId"] for r in full["fsx"]] == [target]
    assert [o["targetId"] for o in full["orphans"]] == [untagged]
    by_id = snapmgmt("report", run_id)
    assert by_id.returncode == 0 and target in by_id.stdout and "orphans (no longer targets)" in by_id.stdout

    status = snapmgmt("--json", "status")
    assert status.returncode == 0, status.stderr
    answer = json.loads(status.stdout)
    assert answer["lastRun"] == run_id and answer["staleAfterHours"] == 50
    [row] = answer["targets"]
    assert (row["targetId"], row["stale"], row["hoursWithoutBackup"]) == (target, False, 0)
    assert row["lastCompleted"] >= time.time() - 600 and row["lastCopies"] is not None, "the suite's stack copies"
    assert [o["targetId"] for o in answer["orphans"]] == [untagged]
    assert "ORPHAN fsx" in snapmgmt("status").stdout


def test_a_stale_target_needs_attention_and_what_cannot_be_answered_says_why(aws):
    stack.create_file_system(aws)
    assert run()["status"] == "SUCCEEDED"
    # A target the ledger last saw backed up four days ago: stale past the stack's 50 hours.
    s3 = stack.client("s3")
    bucket = stack.client("cloudformation").describe_stacks(StackName="snapmgmt")["Stacks"][0]["Outputs"]
    bucket = next(o["OutputValue"] for o in bucket if o["OutputKey"] == "InventoryBucketName")
    ledger = json.loads(s3.get_object(Bucket=bucket, Key="state/last-backups.json")["Body"].read())
    old = int(time.time()) - 96 * 3600
    ledger["targets"]["ec2:i-0123456789abcdef0"] = {"firstSeen": old - 3600, "lastCompleted": old, "lastSeen": old}
    s3.put_object(Bucket=bucket, Key="state/last-backups.json", Body=json.dumps(ledger).encode())

    status = snapmgmt("status")

    assert status.returncode == 1, status
    assert "i-0123456789abcdef0" in status.stdout.splitlines()[2] and "STALE (> 50 h)" in status.stdout
    missing = snapmgmt("report", "no-such-run")
    assert missing.returncode == 3 and "no report of run no-such-run" in missing.stderr, missing
    # Another stack's name: the operator's policy covers this stack only, and AWS refuses the look.
    conftest.PROVOKED_DENIALS.add(
        ("cloudformation:DescribeStacks", "arn:aws:cloudformation:us-east-1:123456789012:stack/someone-elses/none")
    )
    elsewhere = snapmgmt("--stack", "someone-elses", "runs")
    assert elsewhere.returncode == 3 and "cannot find stack" in elsewhere.stderr, elsewhere
    wrong = snapmgmt("runs", "--limit", "many")
    assert wrong.returncode == 2 and "Usage: snapmgmt" in wrong.stderr


def test_backups_judges_a_resources_backups_as_the_run_then_does(aws):
    """`backups` runs the cleanup's own rule with its function's settings, changing nothing: what it says goes
    tonight is what the run deletes; an orphan's expired backups are only reported while DeleteOrphans is off."""
    fsx, ec2, efs = aws, stack.client("ec2"), stack.client("efs")
    target = stack.create_file_system(fsx)
    expired = {stack.create_backup(fsx, target, age, ours=True) for age in (30, 40)}
    young = stack.create_backup(fsx, target, 1, ours=True)
    untagged = stack.create_file_system(fsx, tagged=False)
    stack.create_backup(fsx, untagged, 30, ours=True)  # its newest: kept (MinKeep)
    orphaned = stack.create_backup(fsx, untagged, 40, ours=True)
    instance = stack.create_instance(ec2)
    old_snapshot = stack.create_snapshot(ec2, instance, 30, ours=True)
    file_system = stack.create_efs(efs)
    # A young point too: the delete guard allows half of them.
    expired_points = set(stack.create_recovery_points(deploy.BACKUP_VAULT, file_system, [1, 30, 40])[1:])
    _, volume = stack.create_ontap_volume(fsx, tagged=False)

    before = snapmgmt("--json", "backups", target)

    assert before.returncode == 0, before.stderr
    plan = json.loads(before.stdout)
    assert (plan["kind"], plan["orphan"]) == ("fsx", False)
    here, copies = plan["regions"]
    assert (here["region"], copies["region"], copies["copies"]) == ("us-east-1", "us-west-2", True)
    assert [b["id"] for b in here["backups"]][0] == young, "newest first"
    assert {b["id"] for b in here["backups"] if b["goesTonight"]} == expired
    assert {b["keptBecause"] for b in here["backups"] if b["id"] == young} == {"TooYoung"}
    assert stack.backup_ids(fsx, target) >= expired | {young}, "it changed nothing"

    summary = run()

    assert summary["status"] == "SUCCEEDED", json.dumps(summary)[:3000]
    assert set(next(t for t in summary["targets"] if t["targetId"] == target)["cleanup"]["deleted"]) == expired
    orphan = json.loads(snapmgmt("--json", "backups", untagged).stdout)
    assert orphan["orphan"] is True
    assert {b["id"] for b in orphan["regions"][0]["backups"] if b["expired"]} == {orphaned}
    assert not any(b["goesTonight"] for b in orphan["regions"][0]["backups"]), "DeleteOrphans is off"
    assert "only reported (DeleteOrphans is off)" in snapmgmt("backups", untagged).stdout
    snapshots = json.loads(snapmgmt("--json", "backups", instance).stdout)
    assert snapshots["kind"] == "ec2" and old_snapshot not in {b["id"] for b in snapshots["regions"][0]["backups"]}
    recovery = json.loads(snapmgmt("--json", "backups", file_system["FileSystemId"]).stdout)
    left = {b["id"] for b in recovery["regions"][0]["backups"]}
    assert recovery["kind"] == "efs" and len(left) == 2 and not left & expired_points, recovery
    assert json.loads(snapmgmt("--json", "backups", volume).stdout)["regions"][0]["backups"] == []


def test_plan_is_what_the_dry_run_execution_plans_and_needs_only_the_operator_policy(aws):
    """`plan` lists and judges as the workflow would, read-only: on the same resources, each target's and
    each orphan's backups to delete are the dry-run execution's; nothing changed; no call of the operator's
    was refused."""
    fsx, ec2, efs = aws, stack.client("ec2"), stack.client("efs")
    target = stack.create_file_system(fsx)
    for age in (1, 30, 40):
        stack.create_backup(fsx, target, age, ours=True)
    instance = stack.create_instance(ec2)
    stack.create_snapshot(ec2, instance, 30, ours=True)
    file_system = stack.create_efs(efs)
    stack.create_recovery_points(deploy.BACKUP_VAULT, file_system, [1, 30, 40])
    untagged = stack.create_file_system(fsx, tagged=False)
    for age in (30, 40, 50):
        stack.create_backup(fsx, untagged, age, ours=True)
    before = stack.backup_ids(fsx, target) | stack.backup_ids(fsx, untagged)

    planned = snapmgmt("--json", "plan")

    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    # As of the schedule's next run (the template's default, cron(0 2 * * ? *)): the ages above hold till then.
    assert plan["atFrom"] == "the schedule's next run" and time.gmtime(plan["at"])[3:6] == (2, 0, 0)
    assert 0 < plan["at"] - time.time() <= 86400
    assert stack.backup_ids(fsx, target) | stack.backup_ids(fsx, untagged) == before, "it changed nothing"
    assert stack.client("stepfunctions").list_executions(stateMachineArn=state_machine())["executions"] == []
    dry = run(dry_run=True)
    assert dry["status"] == "SUCCEEDED", dry

    def going(judged, region):
        [there] = [r for r in judged["regions"] if r["region"] == region]
        return {b["id"] for b in there["backups"] if b["expired"]}

    planned_targets = {t["resource"]: t for t in plan["targets"]}
    expected = {target, instance, file_system["FileSystemId"]}
    assert set(planned_targets) == {t["targetId"] for t in dry["targets"]} == expected
    for result in dry["targets"]:
        assert going(planned_targets[result["targetId"]], stack.REGION) == set(result["cleanup"]["deleted"]), result
    planned_orphans = {(o["resource"], o["regions"][0]["region"]): o for o in plan["orphans"]}
    assert {(o["targetId"], o.get("region") or stack.REGION) for o in dry["orphans"]} == set(planned_orphans)
    for result in dry["orphans"]:
        region = result.get("region") or stack.REGION
        assert going(planned_orphans[(result["targetId"], region)], region) == set(result["cleanup"]["deleted"])
    assert plan["totals"]["toDelete"] == 2 + 1 + 2, plan["totals"]  # the orphan's only reported: DeleteOrphans is off
    one = json.loads(snapmgmt("--json", "plan", "--target", instance).stdout)
    assert [t["resource"] for t in one["targets"]] == [instance] and one["orphans"] == []
    table = snapmgmt("plan")
    assert table.returncode == 0 and "would delete:" in table.stdout and f"{untagged} (orphan)" in table.stdout
    operator = iam_template.operator_role_arn("operator")
    refused = [
        d
        for d in iam_usage.live_decisions()
        if d["role"] == operator and not d["allowed"] and (d["action"], d["resource"]) not in conftest.PROVOKED_DENIALS
    ]
    assert not refused, refused


def state_machine() -> str:
    [name] = [n for n in deploy.STATE_MACHINES if n.endswith("snapshot-mgmt")]
    return f"arn:aws:states:{stack.REGION}:{stack.ACCOUNT_ID}:stateMachine:{name}"


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def test_restore_picks_the_newest_backup_at_or_before_the_time_and_restores_it(aws):
    ec2, efs = stack.client("ec2"), stack.client("efs")
    instance = stack.create_instance(ec2, volumes=2)
    older = stack.create_snapshot(ec2, instance, 3, ours=True, run="older")
    file_system = stack.create_efs(efs)["FileSystemId"]
    fsx_fs = stack.create_file_system(aws)
    summary = run()
    assert summary["status"] == "SUCCEEDED", summary
    night = set(next(t for t in summary["targets"] if t["targetId"] == instance)["created"])

    two_days_ago = iso(time.time() - 2 * 86400)
    as_of_two_days_ago = json.loads(snapmgmt("--json", "restore", instance, "--to", two_days_ago).stdout)
    assert as_of_two_days_ago["backup"] == [older]
    zone = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["Placement"]
    assert f"--availability-zone {zone['AvailabilityZone']}" in as_of_two_days_ago["steps"][0]["command"]

    replacement = stack.create_instance(ec2, tagged=False, name="replacement")
    ec2.stop_instances(InstanceIds=[replacement])
    now = iso(time.time())
    restored = snapmgmt("--json", "restore", instance, "--to", now, "--run", "--instance", replacement, who="restorer")
    assert restored.returncode == 0, restored.stderr
    answer = json.loads(restored.stdout)
    assert set(answer["backup"]) == night and len(answer["made"]) == len(night)
    assert "volumes available" in restored.stderr, "a progress line while it waits"
    volumes = ec2.describe_volumes(VolumeIds=answer["made"])["Volumes"]
    assert {v["SnapshotId"] for v in volumes} == night
    assert all(v["Attachments"][0]["InstanceId"] == replacement for v in volumes)
    assert all({"Key": "snapmgmt:RestoredFrom", "Value": v["SnapshotId"]} in v["Tags"] for v in volumes)

    efs_restored = snapmgmt("--json", "restore", file_system, "--to", iso(time.time()), "--run", who="restorer")
    assert efs_restored.returncode == 0, efs_restored.stderr
    assert "start-restore-job" in json.loads(efs_restored.stdout)["steps"][0]["command"]
    assert "COMPLETED" in efs_restored.stderr

    fsx_printed = snapmgmt("restore", fsx_fs, "--to", iso(time.time()))
    assert fsx_printed.returncode == 0
    assert "aws fsx create-file-system-from-backup --backup-id backup-" in fsx_printed.stdout
    refused = snapmgmt("restore", fsx_fs, "--to", iso(time.time()), "--run", who="restorer")
    assert refused.returncode == 3 and "does not make FSx" in refused.stderr
    too_early = snapmgmt("restore", instance, "--to", iso(time.time() - 30 * 86400))
    assert too_early.returncode == 3 and "no completed backup of ours at or before" in too_early.stderr
