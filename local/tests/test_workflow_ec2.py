"""The EC2 branch of the scheduled workflow end to end: the shipped SSM document run by the emulator's
automation, the shipped state machine's poll and retry loop, real function binaries."""

import json
import time

import conftest
import deploy
import stack
import workflow
from test_workflow import kept, run, target


def tag(snapshot, key):
    return next((t["Value"] for t in snapshot.get("Tags", []) if t["Key"] == key), None)


def test_an_instance_is_snapshotted_as_one_set_and_its_expired_sets_deleted(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2)
    old = stack.create_snapshot(ec2, instance, 20, ours=True, run="old-run")
    young = stack.create_snapshot(ec2, instance, 2, ours=True, run="young-run")
    untagged = stack.create_instance(ec2, tagged=False)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    result = target(summary, instance)
    assert len(result["created"]) == 2 and result["retries"] == 0
    assert result["cleanup"]["deleted"] == [old]
    assert kept(result)[young] == "TooYoung"
    new = [s for s in stack.snapshots(ec2, instance) if s["SnapshotId"] in result["created"]]
    # Without a sandbox the emulator runs none of the instance's shell steps, so nothing reports a freeze that
    # held and nothing is claimed (test_linux_freeze.py runs them for real).
    assert {(tag(s, "snapmgmt:AppConsistent"), tag(s, "snapmgmt:Consistency")) for s in new} == {("false", "unknown")}
    assert {tag(s, "snapmgmt:RunId") for s in new} == {summary["execution"].split(":")[-1]}
    assert {tag(s, "snapmgmt:Stack") for s in new} == {stack.STACK_ID}, "the stack that made them"
    assert {tag(s, "snapmgmt:Volumes") for s in new} == {"2"}, "as many snapshots as the instance's volumes"
    # Each snapshot of the completed set is named by its instance and its device.
    devices = {
        m["Ebs"]["VolumeId"]: m["DeviceName"]
        for m in ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0][
            "BlockDeviceMappings"
        ]
    }
    assert {tag(s, "Name") for s in new} == {f"target ({instance}) {devices[s['VolumeId']]}" for s in new}
    assert len({tag(s, "Name") for s in new}) == 2
    assert untagged not in [t["targetId"] for t in summary["targets"]]


def test_an_automation_failing_twice_is_retried_and_its_completed_leftovers_are_left_to_the_rule(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=1)
    # Both failures leave completed snapshots behind (the freeze worked, the thaw failed).
    stack.script_next_automations(instance, [{"status": "Failed", "snapshots": True}] * 2)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    result = target(summary, instance)
    assert result["retries"] == 2
    remaining = stack.snapshots(ec2, instance)
    created = {s["SnapshotId"] for s in remaining if tag(s, "snapmgmt:Attempt") == "2"}
    assert created == set(result["created"])
    # A retry deletes only what an earlier attempt left failed: a completed snapshot is a backup, one set per
    # attempt, which only the retention rule deletes (young: kept tonight).
    leftovers = {s["SnapshotId"] for s in remaining} - created
    assert {tag(s, "snapmgmt:Attempt") for s in remaining if s["SnapshotId"] in leftovers} == {"0", "1"}
    kept = {k["id"]: k["reason"] for k in result["cleanup"]["kept"]}
    assert all(kept.get(snapshot) == "TooYoung" for snapshot in leftovers), kept


def test_an_automation_failing_every_time_fails_that_instance_only(aws):
    ec2 = stack.client("ec2")
    broken = stack.create_instance(ec2)
    healthy = stack.create_instance(ec2)
    stack.script_next_automations(broken, [{"status": "Failed", "message": "Step FreezeLinux failed"}] * 6)

    summary = run(timing={"ec2MaxRetries": 2})

    assert summary["status"] == "FAILED"
    assert summary["failedTargets"] == [broken]
    assert target(summary, broken)["error"] == "SnapshotFailed"
    assert "FreezeLinux" in target(summary, broken)["cause"]
    assert target(summary, healthy)["created"]


def test_an_instance_tagged_for_the_direct_mode_gets_a_crash_consistent_set(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2, mode="direct")

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    created = target(summary, instance)["created"]
    assert len(created) == 2
    new = [s for s in stack.snapshots(ec2, instance) if s["SnapshotId"] in created]
    assert {(tag(s, "snapmgmt:AppConsistent"), tag(s, "snapmgmt:Consistency")) for s in new} == {("false", "crash")}


def test_a_stopped_instance_is_snapshotted_in_the_direct_mode_and_skipped_with_why_in_the_ssm_mode(aws):
    ec2 = stack.client("ec2")
    direct = stack.create_instance(ec2, mode="direct")
    ssm = stack.create_instance(ec2)
    ec2.stop_instances(InstanceIds=[direct, ssm])

    summary = run()

    assert len(target(summary, direct)["created"]) == 1, target(summary, direct)
    assert ssm not in [t["targetId"] for t in summary["targets"]]
    [skipped] = [s for s in summary["skipped"] if s["id"] == ssm]
    assert skipped["reason"].startswith("stopped")


def test_a_target_failing_past_the_stale_limit_is_named_in_the_report(aws):
    """The ledger says the instance's last backup completed three days ago; tonight's fails too."""
    ec2 = stack.client("ec2")
    failing = stack.create_instance(ec2)
    stack.script_next_automations(failing, [{"status": "Failed"}] * 6)
    s3 = stack.client("s3")
    try:
        body = s3.get_object(Bucket=deploy.INVENTORY_BUCKET, Key="state/last-backups.json")["Body"].read()
        ledger = json.loads(body)
    except s3.exceptions.NoSuchKey:
        ledger = {"targets": {}}
    three_days_ago = int(time.time()) - 72 * 3600
    ledger["targets"][f"ec2:{failing}"] = {"firstSeen": three_days_ago, "lastCompleted": three_days_ago}
    s3.put_object(Bucket=deploy.INVENTORY_BUCKET, Key="state/last-backups.json", Body=json.dumps(ledger))

    summary = run(timing={"ec2MaxRetries": 1})

    [stale] = [s for s in summary["withoutRecentBackup"] if s["targetId"] == failing]
    assert stale["kind"] == "ec2" and stale["hoursWithoutBackup"] >= 72 and stale["lastCompleted"] == three_days_ago


def copy_region_ec2():
    """EC2 in the suite's copy Region (COPY_REGION)."""
    return stack.client("ec2", region=conftest.COPY_REGION)


def old_copy(ec2, destination, instance: str, run_name: str, age_days: float) -> str:
    """A copy of ours in the copy Region, as an earlier run made it, aged."""
    source = stack.create_snapshot(ec2, instance, age_days, ours=True, run=run_name)
    tags = [
        {"Key": "ManagedBy", "Value": "snapmgmt"},
        {"Key": "snapmgmt:TargetId", "Value": instance},
        {"Key": "snapmgmt:RunId", "Value": run_name},
        {"Key": "snapmgmt:SourceId", "Value": source},
    ]
    copy = destination.copy_snapshot(
        SourceRegion=stack.REGION,
        SourceSnapshotId=source,
        Description=f"snapmgmt {instance} {run_name}",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}],
    )["SnapshotId"]
    started = time.time() - age_days * stack.DAY
    stack.control(
        "/moto-api/snapmgmt/ec2/snapshot",
        {"snapshotId": copy, "startTime": started, "state": "completed", "region": conftest.COPY_REGION},
    )
    return copy


def test_each_new_set_is_copied_to_the_copy_region_and_the_copies_there_are_cleaned_by_the_rule(aws):
    ec2, destination = stack.client("ec2"), copy_region_ec2()
    instance = stack.create_instance(ec2, volumes=1)
    expired = old_copy(ec2, destination, instance, "old-run", 20)
    young = old_copy(ec2, destination, instance, "young-run", 2)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    result = target(summary, instance)
    copied = result["copy"]
    assert copied["region"] == "us-west-2" and len(copied["copyIds"]) == len(result["created"]) == 1, copied
    assert copied["cleanup"]["deleted"] == [expired]
    assert {k["id"]: k["reason"] for k in copied["cleanup"]["kept"]}[young] == "TooYoung"
    [copy] = destination.describe_snapshots(SnapshotIds=copied["copyIds"])["Snapshots"]
    assert (tag(copy, "snapmgmt:SourceId"), tag(copy, "snapmgmt:SourceRegion")) == (result["created"][0], "us-east-1")
    assert copy["Encrypted"] and copy["State"] == "completed"
    shown = workflow.render(summary)
    assert f"copied to us-west-2: {copied['copyIds'][0]}" in shown and f"deleted {expired} in us-west-2" in shown


def test_a_failed_copy_fails_that_target_and_the_next_run_copies_again(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=1)
    stack.control("/moto-api/snapmgmt/ec2/next-copies", {"region": conftest.COPY_REGION, "outcomes": ["error"]})

    failed = run(time="2026-11-26T02:00:00Z")

    assert failed["status"] == "FAILED", failed
    result = target(failed, instance)
    assert result["error"] == "CopyFailed" and len(result["created"]) == 1, result
    assert result["created"][0] in {s["SnapshotId"] for s in stack.snapshots(ec2, instance)}, "the source set stays"

    again = run(time="2026-11-27T02:00:00Z")

    assert again["status"] == "SUCCEEDED", again
    assert len(target(again, instance)["copy"]["copyIds"]) == 1
