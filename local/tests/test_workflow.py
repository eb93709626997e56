"""The scheduled workflow end to end: the trigger function invoked as the schedule does, the state machine
of statemachine/ executed by the emulator's Step Functions engine, every Task a real function binary."""

import datetime
import json
import os

import stack
import workflow

QUICK = {"fsxWaitSeconds": 1, "fsxPollSeconds": 1, "ec2PollSeconds": 1, "efsPollSeconds": 1, "copyPollSeconds": 1}


def run(timing=None, dry_run=False, time=None, max_delete_percent=None, timeout=300):
    """Invokes the trigger with a scheduled event and waits for the execution; returns the summary."""
    event = workflow.scheduled_event(dry_run, None)
    event["timing"] = {**QUICK, **(timing or {})}
    if time:
        event["time"] = time
    if max_delete_percent is not None:
        event["maxDeletePercent"] = max_delete_percent
    started = workflow.invoke(stack.client("lambda", os.environ["AWS_ENDPOINT_URL_LAMBDA"]), "trigger", event)
    sfn = stack.client("stepfunctions")
    execution = workflow.wait_for(sfn, started["executionArn"], timeout=timeout)
    return workflow.summarize(sfn, started, execution)


def target(summary, target_id):
    return next(t for t in summary["targets"] if t["targetId"] == target_id)


def kept(result):
    return {k["id"]: k["reason"] for k in result["cleanup"]["kept"]}


def states_entered(summary):
    """The states the execution and its targets' child executions entered."""
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=summary["execution"])
    names = [
        e["stateEnteredEventDetails"]["name"] for p in pages for e in p["events"] if "stateEnteredEventDetails" in e
    ]
    runs = stack.control_get(f"/moto-api/snapmgmt/sfn/map-runs?executionArn={summary['execution']}")["mapRuns"]
    return names + [name for children in runs.values() for child in children for name in child["statesEntered"]]


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


def test_the_plan_is_what_the_real_run_then_does(aws):
    fs = stack.create_file_system(aws)
    for age, ours in ((20, True), (2, True), (30, False), (3, True)):
        stack.create_backup(aws, fs, age, ours=ours)
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=1, mode="direct")
    for age, run_id in ((20, "old"), (1, "young")):
        stack.create_snapshot(ec2, instance, age, ours=True, run=run_id)
    before = (stack.backup_ids(aws, fs), {s["SnapshotId"] for s in stack.snapshots(ec2, instance)})

    plan = run(dry_run=True)
    assert (stack.backup_ids(aws, fs), {s["SnapshotId"] for s in stack.snapshots(ec2, instance)}) == before
    real = run()

    assert plan["status"] == real["status"] == "SUCCEEDED", (plan, real)
    for target_id in (fs, instance):
        planned, done = target(plan, target_id)["cleanup"], target(real, target_id)["cleanup"]
        assert planned["deleted"] == done["deleted"] and len(done["deleted"]) == 1
        new = set(target(real, target_id)["created"])
        # The real run keeps its new backup (AmongNewest); the plan has no id for it yet.
        assert [k for k in planned["kept"]] == [k for k in done["kept"] if k["id"] not in new]
    # A dry run counts the backups it would make as the real run counts those it made; only the new ones'
    # AmongNewest keeps differ.
    # So do the copies in the copy Region (the suite's stack copies): the plan has no id for the new ones.
    plan_copies, real_copies = plan["totals"].pop("copies"), real["totals"].pop("copies")
    assert plan_copies == {**real_copies, "kept": real_copies["kept"] - 2} and real_copies["copied"] == 2
    assert plan["totals"] == {**real["totals"], "kept": plan["totals"]["kept"]}
    assert plan["totals"]["kept"] == real["totals"]["kept"] - 2
    assert {k: v for k, v in real["totals"].items() if k != "kept"} == {
        "targets": 2,
        "failedTargets": 0,
        "created": 2,
        "deleted": 2,
        "failedDeletes": 0,
        "orphans": 0,
    }


def test_the_delete_guard_fails_a_mass_delete_whole_and_an_event_cannot_lift_it(aws):
    fs = stack.create_file_system(aws)
    old = {stack.create_backup(aws, fs, age, ours=True) for age in (20, 30, 40)}

    refused = run()

    assert refused["status"] == "FAILED" and refused["failedTargets"] == [fs]
    assert target(refused, fs)["error"] == "DeleteLimitExceeded"
    assert "MAX_DELETE_PERCENT" in target(refused, fs)["cause"]
    # Its backup was made before the guard refused the cleanup: the report says so.
    [new] = target(refused, fs)["created"]
    assert refused["totals"]["created"] == 1 and new in stack.backup_ids(aws, fs)
    assert old <= stack.backup_ids(aws, fs)

    # Whoever can invoke the trigger (or start the workflow) cannot raise the limit: the operator raises
    # MaxDeletePercent, the cleanup function's own setting (the crate's tests show that path).
    asked = run(max_delete_percent=100)

    assert asked["status"] == "FAILED" and target(asked, fs)["error"] == "DeleteLimitExceeded", asked
    assert old <= stack.backup_ids(aws, fs)


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


def test_the_run_command_shows_progress_then_a_table(aws, capsys, monkeypatch):
    fs = stack.create_file_system(aws)
    old = stack.create_backup(aws, fs, 20, ours=True)
    monkeypatch.setattr("sys.argv", ["workflow.py", "--poll-seconds", "1"])

    assert workflow.main() == 0

    out, err = capsys.readouterr()
    # Each kind's Map Run counts as they change: the FSx target running, then done.
    progress = [line.split() for line in err.splitlines() if line.startswith("  ")]
    assert ["fsx", "1", "succeeded,", "0", "failed,", "0", "running", "of", "1"] in progress, err
    header, row = out.splitlines()[1:3]
    assert header.split() == ["kind", "target", "created", "deleted", "kept", "result"]
    assert row.split() == ["fsx", fs, "1", "1", "1", "ok"], out
    assert f"deleted {old}" in out


def test_backups_of_a_resource_that_is_no_longer_a_target_are_reported_with_their_ages(aws):
    """Its tag removed, a file system's backups of ours are an orphan's: reported every run, with what
    DeleteOrphans would delete (off by default: nothing is), once it has been an orphan for OrphanGraceDays
    (7): a file system untagged two days ago keeps everything."""
    untagged = stack.create_file_system(aws, tagged=False)
    newest = stack.create_backup(aws, untagged, 9, ours=True)
    old = {stack.create_backup(aws, untagged, age, ours=True) for age in (30, 40)}
    someone_elses = stack.create_backup(aws, untagged, 90, ours=False)
    lately = stack.create_file_system(aws, tagged=False)
    lately_backups = {stack.create_backup(aws, lately, age, ours=True) for age in (2, 30)}

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    assert untagged not in [t["targetId"] for t in summary["targets"]]
    [orphan] = [o for o in summary["orphans"] if o["targetId"] == untagged]
    assert orphan["kind"] == "fsx" and orphan["orphan"] is True
    cleanup = orphan["cleanup"]
    assert cleanup["dryRun"] is True, "DeleteOrphans is off"
    assert set(cleanup["deleted"]) == old
    assert cleanup["ages"] == {"backups": 3, "newestDays": 9, "oldestDays": 40}
    assert cleanup["resourceGone"] is False
    [in_grace] = [o for o in summary["orphans"] if o["targetId"] == lately]
    assert in_grace["cleanup"]["deleted"] == [] and "OrphanGrace" in kept(in_grace).values(), in_grace
    assert summary["totals"]["orphans"] == 2 and summary["totals"]["targets"] == 0
    assert stack.backup_ids(aws, untagged) == old | {newest, someone_elses}
    assert stack.backup_ids(aws, lately) == lately_backups


def test_a_target_that_leaves_is_named_and_its_backups_judged_by_the_policy_they_were_made_under(aws):
    """A file system backed up under its own tag policy, then untagged: the next run names it disappeared (when
    it was last a target, and why), says how far the targets fell, and judges its backups by the policy they
    recorded, not the stack's."""
    fs = stack.create_file_system(aws)
    arn = aws.describe_file_systems(FileSystemIds=[fs])["FileSystems"][0]["ResourceARN"]
    aws.tag_resource(ResourceARN=arn, Tags=[{"Key": "snapmgmt:Retention", "Value": "days=400"}])
    stays = stack.create_file_system(aws)

    first = run()

    assert first["status"] == "SUCCEEDED", first
    [new] = target(first, fs)["created"]
    recorded = aws.describe_backups(BackupIds=[new])["Backups"][0]["Tags"]
    assert {"Key": "snapmgmt:Policy", "Value": "days=400"} in recorded
    aws.untag_resource(ResourceARN=arn, TagKeys=["ResourceType"])

    second = run()

    assert second["status"] == "SUCCEEDED", second
    assert [t["targetId"] for t in second["targets"]] == [stays]
    [gone] = second["disappeared"]
    assert (gone["kind"], gone["targetId"]) == ("fsx", fs)
    assert gone["reason"].startswith("no longer a target"), gone
    assert second["targetDropPercent"] == 50
    [orphan] = [o for o in second["orphans"] if o["targetId"] == fs and not o.get("region")]
    assert orphan["cleanup"]["policy"]["source"] == "recorded"
    assert orphan["cleanup"]["policy"]["policy"] == "days=400"
    assert orphan["cleanup"]["judgedBy"] == {"days=400": [new]}


def test_a_resource_tagged_with_its_own_policy_keeps_its_tiers_and_a_bad_tag_fails_alone(aws):
    tiered = stack.create_file_system(aws)
    arn = aws.describe_file_systems(FileSystemIds=[tiered])["FileSystems"][0]["ResourceARN"]
    aws.tag_resource(ResourceARN=arn, Tags=[{"Key": "snapmgmt:Retention", "Value": "daily=2"}])
    yesterdays = stack.create_backup(aws, tiered, 1.2, ours=True)
    older = {stack.create_backup(aws, tiered, age, ours=True) for age in (2.2, 3.2)}
    bad = stack.create_file_system(aws)
    bad_arn = aws.describe_file_systems(FileSystemIds=[bad])["FileSystems"][0]["ResourceARN"]
    aws.tag_resource(ResourceARN=bad_arn, Tags=[{"Key": "snapmgmt:Retention", "Value": "keep=forever"}])
    bads = stack.create_backup(aws, bad, 30, ours=True)

    summary = run()

    result = target(summary, tiered)
    assert result["cleanup"]["policy"] == {"source": "tag", "policy": "daily=2", "timeZone": "UTC"}
    assert kept(result)[yesterdays] == "KeptDaily"
    # RetentionDays (7) would keep them: the tag's policy replaces the stack's.
    assert set(result["cleanup"]["deleted"]) == older
    assert summary["failedTargets"] == [bad]
    failed = target(summary, bad)
    assert (
        failed["error"] == "InvalidTag"
        and "snapmgmt:Retention" in failed["cause"]
        and "keep=forever" in failed["cause"]
    )
    assert bads in stack.backup_ids(aws, bad), "nothing of it is deleted"


def test_the_readmes_example_policies_tagged_through_each_services_api_are_each_applied(aws):
    """FSx, EFS and AWS Backup refuse a comma in a tag value: the space-separated form is set through each API
    (the emulator checks the value against the services' pattern) and the run applies each as written."""
    ec2, efs = stack.client("ec2"), stack.client("efs")
    policies = {}

    fs = stack.create_file_system(aws)
    arn = aws.describe_file_systems(FileSystemIds=[fs])["FileSystems"][0]["ResourceARN"]
    policies[fs] = "daily=7 weekly=4 monthly=12 yearly=3"
    aws.tag_resource(ResourceARN=arn, Tags=[{"Key": "snapmgmt:Retention", "Value": policies[fs]}])

    ontap, volume = stack.create_ontap_volume(aws)
    volume_arn = aws.describe_volumes(VolumeIds=[volume])["Volumes"][0]["ResourceARN"]
    policies[volume] = "days=7 monthly=12"
    aws.tag_resource(ResourceARN=volume_arn, Tags=[{"Key": "snapmgmt:Retention", "Value": policies[volume]}])

    file_system = stack.create_efs(efs)["FileSystemId"]
    policies[file_system] = "days=30"
    efs.tag_resource(ResourceId=file_system, Tags=[{"Key": "snapmgmt:Retention", "Value": policies[file_system]}])

    instance = stack.create_instance(ec2, mode="direct")
    policies[instance] = "daily=7 weekly=4 monthly=12"
    ec2.create_tags(Resources=[instance], Tags=[{"Key": "snapmgmt:Retention", "Value": policies[instance]}])

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    for target_id, policy in policies.items():
        applied = target(summary, target_id)["cleanup"]["policy"]
        assert applied == {"source": "tag", "policy": policy, "timeZone": "UTC"}, target_id


def test_an_openzfs_file_system_is_backed_up_and_cleaned_like_the_others(aws):
    openzfs = stack.create_file_system(
        aws, kind="OPENZFS", OpenZFSConfiguration={"DeploymentType": "SINGLE_AZ_1", "ThroughputCapacity": 64}
    )
    expired = stack.create_backup(aws, openzfs, 30, ours=True)

    summary = run()

    result = target(summary, openzfs)
    assert summary["status"] == "SUCCEEDED", result
    [new] = result["created"]
    assert result["cleanup"]["deleted"] == [expired]
    assert stack.backup_ids(aws, openzfs) == {new}


def test_a_tagged_ontap_volume_is_backed_up_and_cleaned_on_its_own(aws):
    ontap, volume = stack.create_ontap_volume(aws)
    expired = stack.create_backup(aws, volume, 30, ours=True)
    _, untagged_volume = stack.create_ontap_volume(aws, tagged=False)
    untouched = stack.create_backup(aws, untagged_volume, 30, ours=True)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    result = target(summary, volume)
    [new] = result["created"]
    assert result["cleanup"]["deleted"] == [expired]
    assert stack.backup_ids(aws, volume) == {new}
    described = aws.describe_backups(BackupIds=[new])["Backups"][0]
    assert (described["ResourceType"], described["Volume"]["VolumeId"]) == ("VOLUME", volume)
    assert {"Key": "Name", "Value": "data"} in described["Tags"], "the volume's Name is copied onto its backup"
    assert stack.backup_ids(aws, untagged_volume) == {untouched}
    assert ontap not in [t["targetId"] for t in summary["targets"]], "the file system itself is not backed up"


def old_fsx_copy(fsx, fs_id: str, run_name: str, age_days: float) -> str:
    """A copy of ours in the copy Region, as an earlier run made it, aged."""
    import conftest

    source = stack.create_backup(fsx, fs_id, age_days, ours=True)
    tags = [*stack.our_tags(fs_id), {"Key": "snapmgmt:RunId", "Value": run_name}]
    destination = stack.client("fsx", region=conftest.COPY_REGION)
    copy = destination.copy_backup(
        SourceRegion=stack.REGION, SourceBackupId=source, Tags=[*tags, {"Key": "snapmgmt:SourceId", "Value": source}]
    )["Backup"]["BackupId"]
    created = datetime.datetime.now().timestamp() - age_days * stack.DAY
    stack.control(
        "/moto-api/snapmgmt/fsx/backup",
        {"backupId": copy, "creationTime": created, "lifecycle": "AVAILABLE", "region": conftest.COPY_REGION},
    )
    return copy


def test_each_new_fsx_backup_is_copied_to_the_copy_region_and_the_copies_there_are_cleaned_by_the_rule(aws):
    import conftest

    fsx = aws
    fs = stack.create_file_system(fsx)
    expired = old_fsx_copy(fsx, fs, "old-run", 20)
    young = old_fsx_copy(fsx, fs, "young-run", 2)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    result = target(summary, fs)
    copied = result["copy"]
    assert copied["region"] == conftest.COPY_REGION and len(copied["copyIds"]) == 1, copied
    assert copied["cleanup"]["deleted"] == [expired]
    assert {k["id"]: k["reason"] for k in copied["cleanup"]["kept"]}[young] == "TooYoung"
    destination = stack.client("fsx", region=conftest.COPY_REGION)
    [copy] = destination.describe_backups(BackupIds=copied["copyIds"])["Backups"]
    tags = {t["Key"]: t["Value"] for t in copy["Tags"]}
    assert ([tags["snapmgmt:SourceId"]], tags["snapmgmt:SourceRegion"]) == (result["created"], stack.REGION)
    assert tags["snapmgmt:RunId"] == summary["execution"].split(":")[-1] and copy["Lifecycle"] == "AVAILABLE"
    assert tags["snapmgmt:Stack"] == stack.STACK_ID, "the copy says which stack made its source"
    shown = workflow.render(summary)
    assert f"copied to {conftest.COPY_REGION}: {copy['BackupId']}" in shown
    assert "copy Region: copied 1 backup(s), deleted 1, kept 2, failed to delete 0" in shown, shown


def test_a_failed_fsx_copy_fails_that_target_alone_and_the_next_run_copies_again(aws):
    import conftest

    fsx = aws
    fs, other = stack.create_file_system(fsx), stack.create_file_system(fsx)
    stack.script_next_backups(fs, [{"lifecycle": "FAILED", "seconds": 0}], region=conftest.COPY_REGION)

    failed = run(time="2026-11-26T02:00:00Z")

    assert failed["status"] == "FAILED", failed
    result = target(failed, fs)
    assert result["error"] == "CopyFailed" and result["created"][0] in stack.backup_ids(fsx, fs), result
    assert len(target(failed, other)["copy"]["copyIds"]) == 1, "the other file system's copy is made"

    again = run(time="2026-11-27T02:00:00Z")

    assert again["status"] == "SUCCEEDED", again
    assert len(target(again, fs)["copy"]["copyIds"]) == 1


def test_copies_of_a_resource_that_is_no_longer_a_target_are_an_orphan_in_the_copy_region(aws):
    import conftest

    untagged = stack.create_file_system(aws, tagged=False)
    newest, oldest = old_fsx_copy(aws, untagged, "run-a", 20), old_fsx_copy(aws, untagged, "run-b", 30)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    by_region = {o.get("region"): o for o in summary["orphans"] if o["targetId"] == untagged}
    assert set(by_region) == {None, conftest.COPY_REGION}, summary["orphans"]
    copies = by_region[conftest.COPY_REGION]["cleanup"]
    assert copies["dryRun"] is True, "DeleteOrphans is off"
    assert copies["deleted"] == [oldest] and {k["id"]: k["reason"] for k in copies["kept"]}[newest] == "AmongNewest"
    assert summary["totals"]["orphans"] == 2
    left = stack.client("fsx", region=conftest.COPY_REGION).describe_backups(BackupIds=[newest, oldest])["Backups"]
    assert len(left) == 2, "only reported"
    assert f"ORPHAN fsx {untagged} in {conftest.COPY_REGION} (no longer a target)" in workflow.render(summary)
