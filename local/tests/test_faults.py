"""The scheduled workflow under AWS faults: the fault proxy between the functions and the emulator
throttles, fails or drops their calls; the runs must still create and delete exactly what they should."""

import stack
import workflow
from test_workflow import run, target

EXPECTED_FIGURES = "fault figures: {}"


def inventory(fsx, ec2, efs):
    """Two file systems, an instance of each snapshot mode and an EFS file system, each FSx and EC2
    target with an expired backup of ours (to delete), a young one and someone else's (to keep)."""
    targets = {}
    for name in ("fsx-a", "fsx-b"):
        fs = stack.create_file_system(fsx, name=name)
        targets[fs] = {
            "expired": {stack.create_backup(fsx, fs, 20, ours=True)},
            "kept": {stack.create_backup(fsx, fs, 2, ours=True), stack.create_backup(fsx, fs, 30, ours=False)},
        }
    for mode in ("ssm", "direct"):
        instance = stack.create_instance(ec2, volumes=1, mode=mode)
        targets[instance] = {
            "expired": {stack.create_snapshot(ec2, instance, 20, ours=True, run="old")},
            "kept": {stack.create_snapshot(ec2, instance, 2, ours=True, run="young")},
        }
    targets[stack.create_efs(efs)["FileSystemId"]] = {}
    return targets


def inventory_now(fsx, ec2, target_id):
    if target_id.startswith("i-"):
        return {s["SnapshotId"] for s in stack.snapshots(ec2, target_id)}
    return stack.backup_ids(fsx, target_id)


def figures(rules_text):
    faults = stack.faults()
    sent, injected = sum(faults["requests"].values()), sum(faults["injected"].values())
    print(EXPECTED_FIGURES.format(f"{rules_text}: {sent} calls, {injected} faults injected {faults['injected']}"))
    return sent, injected


def test_a_target_whose_calls_always_fail_fails_alone_and_the_report_says_why(aws):
    broken = stack.create_file_system(aws, name="broken")
    healthy = stack.create_file_system(aws, name="healthy")
    old = stack.create_backup(aws, healthy, 20, ours=True)
    kept = stack.create_backup(aws, broken, 20, ours=True)
    # Every FSx call about the broken file system answers 503.
    fsx_operations = ("DescribeFileSystems", "DescribeBackups", "CreateBackup", "DeleteBackup")
    stack.set_faults([{"operation": op, "fault": "http503", "bodyContains": broken} for op in fsx_operations])

    summary = run()

    figures("503 on every call about one file system")
    assert summary["status"] == "FAILED"
    assert summary["failedTargets"] == [broken]
    assert target(summary, broken)["error"] == "AwsUnavailable"
    assert "ServiceUnavailable" in target(summary, broken)["cause"]
    assert target(summary, healthy)["cleanup"]["deleted"] == [old]
    assert kept in stack.backup_ids(aws, broken)


def test_a_connection_dropped_after_a_create_was_sent_makes_no_second_backup(aws):
    ec2 = stack.client("ec2")
    fs = stack.create_file_system(aws)
    instance = stack.create_instance(ec2, volumes=2, mode="direct")
    stack.set_faults(
        [
            {"operation": "CreateBackup", "fault": "dropAfterSend", "count": 1},
            {"operation": "CreateSnapshots", "fault": "dropAfterSend", "count": 1},
        ]
    )

    summary = run()

    figures("connection dropped after CreateBackup and CreateSnapshots")
    assert stack.faults()["injected"] == {"CreateBackup": 1, "CreateSnapshots": 1}
    assert summary["status"] == "SUCCEEDED", summary
    assert stack.backup_ids(aws, fs) == set(target(summary, fs)["created"])
    assert len(stack.backup_ids(aws, fs)) == 1
    snapshots = {s["SnapshotId"] for s in stack.snapshots(ec2, instance)}
    assert snapshots == set(target(summary, instance)["created"]) and len(snapshots) == 2


def test_an_orphan_search_that_fails_stops_no_backup_and_hides_no_other_search(aws):
    """A kind whose orphan search fails (here EC2, answering 503 in both Regions), and a backup of ours whose
    `snapmgmt:TargetId` names nothing, are named in the report; the night's backups and every other kind's
    search go on. EFS orphans are this stack's only: another stack's points in the vault make none."""
    import conftest
    import deploy

    efs = stack.client("efs")
    fs = stack.create_file_system(aws)
    untagged = stack.create_file_system(aws, tagged=False)
    aws.create_backup(FileSystemId=untagged, Tags=stack.our_tags("made-by-hand"))
    ours_gone, theirs_gone = stack.create_efs(efs, tagged=False), stack.create_efs(efs, tagged=False)
    stack.create_recovery_points(deploy.BACKUP_VAULT, ours_gone, [30, 1])
    stack.create_recovery_points(deploy.BACKUP_VAULT, theirs_gone, [30, 1], stack_id="snapmgmt@us-west-2")
    stack.set_faults([{"operation": "DescribeSnapshots", "fault": "http503"}])

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    assert len(target(summary, fs)["created"]) == 1
    failures = {(f["kind"], f.get("region")): f["error"] for f in summary["orphanSearchFailures"]}
    assert set(failures) == {("ec2", None), ("ec2", conftest.COPY_REGION), ("fsx", None)}, failures
    assert "DescribeSnapshots" in failures[("ec2", None)]
    assert 'snapmgmt:TargetId="made-by-hand"' in failures[("fsx", None)]
    efs_orphans = {o["targetId"] for o in summary["orphans"] if o["kind"] == "efs"}
    assert efs_orphans == {ours_gone["FileSystemId"]}, summary["orphans"]
    assert "ORPHAN SEARCH FAILED ec2 in us-west-2" in workflow.render(summary)
