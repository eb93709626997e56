"""Adopting the original sample's backups, end to end, with the stack deployed as
AdoptOriginalSampleBackups=true (the suite's stack is): the plan shows them as adopted, the run deletes the
expired ones of each target under the same rule, and IAM lets the cleanup role delete them by the sample's own
tag only."""

import time

import stack
from test_workflow import kept, run, target

SAMPLE = {"Key": "CreatedBy", "Value": "Snapshot-Automation-Sample"}


def samples_snapshot(ec2, instance_id: str, request: str, age_days: float) -> str:
    """A snapshot of the instance's first volume as the original sample's document tagged it, aged."""
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    tags = [SAMPLE, {"Key": "Ec2InstanceId", "Value": instance_id}, {"Key": "SnapshotRequestId", "Value": request}]
    snapshot_id = ec2.create_snapshot(
        VolumeId=instance["BlockDeviceMappings"][0]["Ebs"]["VolumeId"],
        Description=f"Snapshot of {instance_id}",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}],
    )["SnapshotId"]
    started = time.time() - age_days * stack.DAY
    stack.control(
        "/moto-api/snapmgmt/ec2/snapshot", {"snapshotId": snapshot_id, "startTime": started, "state": "completed"}
    )
    return snapshot_id


def snapshot_ids(ec2, *ids: str) -> set:
    """Which of these snapshots exist."""
    pages = ec2.get_paginator("describe_snapshots").paginate(OwnerIds=["self"])
    return {s["SnapshotId"] for page in pages for s in page["Snapshots"]} & set(ids)


def samples_backup(fsx, fs_id: str, request: str, age_days: float) -> str:
    """An FSx backup as the original sample tagged it, aged."""
    tags = [SAMPLE, {"Key": "FileSystemID", "Value": fs_id}, {"Key": "BackupRequestId", "Value": request}]
    backup_id = fsx.create_backup(FileSystemId=fs_id, Tags=tags)["Backup"]["BackupId"]
    created = time.time() - age_days * stack.DAY
    stack.control(
        "/moto-api/snapmgmt/fsx/backup", {"backupId": backup_id, "creationTime": created, "lifecycle": "AVAILABLE"}
    )
    return backup_id


def test_the_original_samples_expired_backups_are_shown_adopted_then_deleted_under_the_rule(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2)
    expired_snapshot = samples_snapshot(ec2, instance, "req-1", 30)
    young_snapshot = samples_snapshot(ec2, instance, "req-2", 2)
    fs = stack.create_file_system(aws)
    expired_backup = samples_backup(aws, fs, "req-3", 30)
    bystander = stack.create_instance(ec2, tagged=False)
    not_a_targets = samples_snapshot(ec2, bystander, "req-4", 30)

    plan = run(dry_run=True)

    assert plan["status"] == "SUCCEEDED", plan
    assert sorted(target(plan, instance)["cleanup"]["adopted"]) == sorted([expired_snapshot, young_snapshot])
    assert target(plan, fs)["cleanup"]["adopted"] == [expired_backup]
    assert snapshot_ids(ec2, expired_snapshot), "a plan deletes nothing"

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    ebs = target(summary, instance)
    assert ebs["cleanup"]["deleted"] == [expired_snapshot]
    assert kept(ebs)[young_snapshot] == "TooYoung"
    assert target(summary, fs)["cleanup"]["deleted"] == [expired_backup]
    assert snapshot_ids(ec2, not_a_targets), "the sample's snapshot of a resource that is no target is never adopted"
    assert not snapshot_ids(ec2, expired_snapshot)
