"""IAM on the local stack: each principal acts with exactly the policy template.yaml gives it, and the
findings of the security review stay fixed."""

import json
import os

import boto3
import botocore.exceptions
import conftest
import deploy
import iam_template
import pytest
import stack
from moto_ext.lambda_functions import FunctionInvoker


def as_function(service: str, function: str):
    """A client that acts as the function: it signs with the function's credentials, as its own SDK does."""
    return boto3.client(
        service,
        endpoint_url=os.environ["AWS_ENDPOINT_URL"],
        aws_access_key_id=iam_template.access_key(function),
        aws_secret_access_key="local",
    )


def invoke(function: str, event: dict) -> dict:
    invoker = FunctionInvoker(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    response = invoker.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    return json.loads(response["Payload"].read())


def test_a_call_outside_a_functions_policy_is_refused_naming_the_principal_action_and_resource(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2)
    foreign = stack.create_snapshot(ec2, instance, 90, ours=False)
    resource = f"arn:aws:ec2:us-east-1::snapshot/{foreign}"
    conftest.PROVOKED_DENIALS.add(("ec2:DeleteSnapshot", resource))

    with pytest.raises(botocore.exceptions.ClientError) as refused:
        as_function("ec2", "cleanup").delete_snapshot(SnapshotId=foreign)

    error = refused.value.response["Error"]
    assert error["Code"] == "UnauthorizedOperation"
    for named in ("snapmgmt-CleanupFunctionRole", "ec2:DeleteSnapshot", resource):
        assert named in error["Message"], error
    assert foreign in {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}

    key = "reports/written-by-the-trigger.json"
    conftest.PROVOKED_DENIALS.add(("s3:PutObject", f"arn:aws:s3:::{deploy.INVENTORY_BUCKET}/{key}"))
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        as_function("s3", "trigger").put_object(Bucket=deploy.INVENTORY_BUCKET, Key=key, Body=b"{}")
    assert refused.value.response["Error"]["Code"] == "AccessDenied"


def failed_snapshot(ec2, instance: str, run: str, attempt: int) -> str:
    """A snapshot snapmgmt's attempt left in state error."""
    volume = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]
    tags = [
        {"Key": "ManagedBy", "Value": "snapmgmt"},
        {"Key": "snapmgmt:TargetId", "Value": instance},
        {"Key": "snapmgmt:RunId", "Value": run},
        {"Key": "snapmgmt:Attempt", "Value": str(attempt)},
    ]
    snapshot = ec2.create_snapshot(
        VolumeId=volume[0]["Ebs"]["VolumeId"],
        Description=f"snapmgmt {instance} {run}",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}],
    )["SnapshotId"]
    stack.control("/moto-api/snapmgmt/ec2/snapshot", {"snapshotId": snapshot, "state": "error"})
    return snapshot


def test_a_retried_snapshot_run_replaces_its_failed_attempt_with_its_own_permission(aws):
    # The role had no ec2:DeleteSnapshot: on AWS every retry that had leftovers failed UnauthorizedOperation.
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, mode="direct")
    leftover = failed_snapshot(ec2, instance, "run-retried", 0)
    completed = stack.create_snapshot(ec2, instance, 0, ours=True, run="run-retried")

    result = invoke("snapshot-ebs", {"instanceId": instance, "runId": "run-retried", "attempt": 1})

    assert result.get("replaced") == [leftover], result
    remaining = {s["SnapshotId"] for s in stack.snapshots(ec2, instance)}
    assert leftover not in remaining
    # A completed snapshot of the earlier attempt is a backup: only the retention rule may delete it.
    assert completed in remaining


def test_another_instances_snapshot_tagged_as_this_ones_is_never_deleted(aws):
    ec2 = stack.client("ec2")
    mine, other = stack.create_instance(ec2), stack.create_instance(ec2)
    stack.create_snapshot(ec2, mine, 40, ours=True, run="old-run")
    # Another instance's old snapshot, made by snapmgmt, then re-tagged with this instance's id.
    impostor = stack.create_snapshot(ec2, other, 40, ours=True, run="other-run")
    ec2.create_tags(Resources=[impostor], Tags=[{"Key": "snapmgmt:TargetId", "Value": mine}])

    report = invoke("cleanup", {"kind": "ec2", "instanceId": mine, "dryRun": True})

    assert impostor not in report["deleted"], report
    assert {"id": impostor, "reason": "OtherTarget"} in report["kept"], report


def test_a_new_backup_must_be_this_runs(aws):
    fs = stack.create_file_system(aws)
    old = stack.create_backup(aws, fs, 30, ours=True)
    stack.create_backup(aws, fs, 20, ours=True)

    # An old backup of ours, offered as the new one: it would let the cleanup go ahead.
    answer = invoke("cleanup", {"kind": "fsx", "fileSystemId": fs, "newBackupId": old, "runId": "run-now"})

    assert answer.get("errorType") == "InvalidEvent" and "newBackupId" in answer["errorMessage"], answer
    assert len(aws.describe_backups()["Backups"]) == 2


def test_backup_fsx_may_tag_only_at_creation(aws):
    fs = stack.create_file_system(aws)
    ours = stack.create_backup(aws, fs, 1, ours=True)
    arn = aws.describe_backups(BackupIds=[ours])["Backups"][0]["ResourceARN"]
    conftest.PROVOKED_DENIALS.add(("fsx:TagResource", arn))

    # Re-tagging a backup of ours (to make it another resource's, or another run's) is refused.
    with pytest.raises(botocore.exceptions.ClientError) as refused:
        as_function("fsx", "backup-fsx").tag_resource(
            ResourceARN=arn,
            Tags=[{"Key": "ManagedBy", "Value": "snapmgmt"}, {"Key": "snapmgmt:TargetId", "Value": "x"}],
        )

    assert refused.value.response["Error"]["Code"] == "AccessDeniedException"
    assert "fsx:TagResource" in refused.value.response["Error"]["Message"]
