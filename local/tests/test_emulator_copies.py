"""Copies to a second Region as AWS makes them, on the emulator's two Regions (the groundwork of cross-Region
copies): EC2 CopySnapshot keeps what AWS keeps and refuses what AWS refuses; IAM authorizes the call in the
destination Region against both snapshots."""

import time

import botocore.exceptions
import pytest
import stack

SOURCE, DESTINATION = "us-east-1", "us-west-2"


@pytest.fixture(scope="module")
def endpoint(emulator_alone):
    """The emulator alone: these tests make their own resources."""
    return emulator_alone


def client(service: str, region: str, url: str):
    return stack.client(service, url, region=region)


@pytest.fixture
def ec2(endpoint):
    stack.control("/moto-api/reset", {}, endpoint)
    return client("ec2", SOURCE, endpoint), client("ec2", DESTINATION, endpoint)


def completed_snapshot(ec2_source, url: str, tags: list) -> str:
    volume = ec2_source.create_volume(AvailabilityZone=f"{SOURCE}a", Size=8)["VolumeId"]
    specifications = [{"ResourceType": "snapshot", "Tags": tags}] if tags else []
    snapshot = ec2_source.create_snapshot(VolumeId=volume, TagSpecifications=specifications)["SnapshotId"]
    stack.control("/moto-api/snapmgmt/ec2/snapshot", {"snapshotId": snapshot, "state": "completed"}, url)
    return snapshot


def error_code(call) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        call()
    return raised.value.response["Error"]["Code"]


def test_a_copy_is_pending_then_completed_with_its_own_tags_and_the_destination_key(ec2, endpoint):
    source, destination = ec2
    original = completed_snapshot(source, endpoint, [{"Key": "Name", "Value": "web-1 /dev/sdf"}])

    copy = destination.copy_snapshot(
        SourceRegion=SOURCE,
        SourceSnapshotId=original,
        Description="snapmgmt copy",
        Encrypted=True,
        KmsKeyId="alias/dr-key",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": [{"Key": "ManagedBy", "Value": "snapmgmt"}]}],
    )["SnapshotId"]

    [described] = destination.describe_snapshots(SnapshotIds=[copy])["Snapshots"]
    assert described["State"] == "pending"
    assert (described["Encrypted"], described["KmsKeyId"]) == (True, "alias/dr-key")
    # The source's tags are not copied: only those the request sets.
    assert described["Tags"] == [{"Key": "ManagedBy", "Value": "snapmgmt"}]
    assert not source.describe_snapshots(Filters=[{"Name": "snapshot-id", "Values": [copy]}])["Snapshots"]
    deadline = time.monotonic() + 10
    while destination.describe_snapshots(SnapshotIds=[copy])["Snapshots"][0]["State"] != "completed":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    unencrypted = destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=original)["SnapshotId"]
    assert destination.describe_snapshots(SnapshotIds=[unencrypted])["Snapshots"][0]["Encrypted"] is False
    encrypted = destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=original, Encrypted=True)["SnapshotId"]
    assert destination.describe_snapshots(SnapshotIds=[encrypted])["Snapshots"][0]["KmsKeyId"] == "alias/aws/ebs"


def test_a_copy_of_an_unfinished_snapshot_or_past_20_in_flight_is_refused(ec2, endpoint):
    source, destination = ec2
    volume = source.create_volume(AvailabilityZone=f"{SOURCE}a", Size=8)["VolumeId"]
    pending = source.create_snapshot(VolumeId=volume)["SnapshotId"]
    stack.control("/moto-api/snapmgmt/ec2/snapshot", {"snapshotId": pending, "state": "pending"}, endpoint)
    assert error_code(lambda: destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=pending)) == (
        "IncorrectState"
    )
    missing = "snap-0123456789abcdef0"
    assert error_code(lambda: destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=missing)) == (
        "InvalidSnapshot.NotFound"
    )
    assert error_code(
        lambda: destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=missing, KmsKeyId="alias/k")
    ) in ("InvalidSnapshot.NotFound", "InvalidParameterDependency")

    original = completed_snapshot(source, endpoint, [])
    for _ in range(20):
        destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=original)
    assert error_code(lambda: destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=original)) == (
        "ResourceLimitExceeded"
    )
    # The limit is the destination's: copies within the source Region still go.
    assert source.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=original)["SnapshotId"]


def test_iam_authorizes_a_copy_in_the_destination_region_against_both_snapshots(ec2, endpoint):
    source, _ = ec2
    original = completed_snapshot(source, endpoint, [{"Key": "ManagedBy", "Value": "snapmgmt"}])
    role = f"arn:aws:iam::{stack.ACCOUNT_ID}:role/copier"
    statement = {
        "Effect": "Allow",
        "Action": "ec2:CopySnapshot",
        "Resource": [
            f"arn:aws:ec2:{DESTINATION}::snapshot/*",
            f"arn:aws:ec2:{SOURCE}::snapshot/*",
        ],
        "Condition": {"StringEquals": {"aws:RequestTag/ManagedBy": "snapmgmt"}},
    }
    # The new snapshot's tags, at creation: ec2:CreateAction is CopySnapshot.
    tagging = {
        "Effect": "Allow",
        "Action": "ec2:CreateTags",
        "Resource": f"arn:aws:ec2:{DESTINATION}::snapshot/*",
        "Condition": {"StringEquals": {"ec2:CreateAction": "CopySnapshot"}},
    }
    principals = {
        "roles": {
            role: {
                "logicalId": "Copier",
                "statements": [
                    {"policy": "copy", "index": n, "sid": "", "statement": s}
                    for n, s in enumerate([statement, tagging])
                ],
            }
        },
        "functions": {},
        "stateMachines": {},
    }
    stack.control("/moto-api/snapmgmt/iam/principals", principals, endpoint)
    acting = [client("ec2", region, endpoint) for region in (DESTINATION, "eu-west-1")]
    for each in acting:
        each.meta.events.register(
            "before-sign", lambda request, **_: request.headers.__setitem__("x-snapmgmt-role", role)
        )
    to_destination, elsewhere = acting
    ours = [{"ResourceType": "snapshot", "Tags": [{"Key": "ManagedBy", "Value": "snapmgmt"}]}]

    try:
        assert to_destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=original, TagSpecifications=ours)
        untagged = lambda: to_destination.copy_snapshot(SourceRegion=SOURCE, SourceSnapshotId=original)  # noqa: E731
        assert error_code(untagged) == "UnauthorizedOperation"
        other_region = lambda: elsewhere.copy_snapshot(  # noqa: E731
            SourceRegion=SOURCE, SourceSnapshotId=original, TagSpecifications=ours
        )
        assert error_code(other_region) == "UnauthorizedOperation", "the policy names the destination Region"
    finally:
        stack.control(
            "/moto-api/snapmgmt/iam/principals", {"roles": {}, "functions": {}, "stateMachines": {}}, endpoint
        )


@pytest.fixture
def fsx(endpoint):
    stack.control("/moto-api/reset", {}, endpoint)
    return client("fsx", SOURCE, endpoint), client("fsx", DESTINATION, endpoint)


def available_backup(fsx_source, url: str, tags: list) -> str:
    fs = stack.create_file_system(fsx_source)
    backup = fsx_source.create_backup(FileSystemId=fs, **({"Tags": tags} if tags else {}))["Backup"]["BackupId"]
    stack.control("/moto-api/snapmgmt/fsx/backup", {"backupId": backup, "lifecycle": "AVAILABLE"}, url)
    return backup


def test_an_fsx_backup_copy_is_copying_then_available_and_a_retry_with_its_token_gets_it_again(fsx, endpoint):
    source, destination = fsx
    original = available_backup(source, endpoint, [{"Key": "Name", "Value": "shares"}])
    ours = [{"Key": "ManagedBy", "Value": "snapmgmt"}]

    copy = destination.copy_backup(SourceBackupId=original, SourceRegion=SOURCE, ClientRequestToken="run-1", Tags=ours)
    again = destination.copy_backup(SourceBackupId=original, SourceRegion=SOURCE, ClientRequestToken="run-1", Tags=ours)

    backup = copy["Backup"]
    assert again["Backup"]["BackupId"] == backup["BackupId"], "the same token gives the same copy"
    assert (backup["Lifecycle"], backup["Type"]) == ("COPYING", "USER_INITIATED")
    assert (backup["SourceBackupId"], backup["SourceBackupRegion"]) == (original, SOURCE)
    assert backup["Tags"] == ours, "given tags replace the source's"
    # The source cannot be deleted while it is copied.
    assert error_code(lambda: source.delete_backup(BackupId=original)) == "BackupBeingCopied"
    deadline = time.monotonic() + 10
    while destination.describe_backups(BackupIds=[backup["BackupId"]])["Backups"][0]["Lifecycle"] != "AVAILABLE":
        assert time.monotonic() < deadline
        time.sleep(0.2)
    with_source_tags = destination.copy_backup(SourceBackupId=original, SourceRegion=SOURCE, CopyTags=True)
    assert with_source_tags["Backup"]["Tags"] == [{"Key": "Name", "Value": "shares"}]


def test_an_fsx_copy_of_an_unavailable_backup_or_past_five_in_progress_is_refused(fsx, endpoint):
    source, destination = fsx
    fs = stack.create_file_system(source)
    creating = source.create_backup(FileSystemId=fs)["Backup"]["BackupId"]
    stack.control("/moto-api/snapmgmt/fsx/backup", {"backupId": creating, "lifecycle": "CREATING"}, endpoint)
    unavailable = lambda: destination.copy_backup(SourceBackupId=creating, SourceRegion=SOURCE)  # noqa: E731
    assert error_code(unavailable) == "SourceBackupUnavailable"
    missing = lambda: destination.copy_backup(SourceBackupId="backup-0123456789abcdef0", SourceRegion=SOURCE)  # noqa: E731
    assert error_code(missing) == "BackupNotFound"

    original = available_backup(source, endpoint, [])
    for _ in range(5):
        destination.copy_backup(SourceBackupId=original, SourceRegion=SOURCE)
    sixth = lambda: destination.copy_backup(SourceBackupId=original, SourceRegion=SOURCE)  # noqa: E731
    assert error_code(sixth) == "ServiceLimitExceeded"


@pytest.fixture
def backup(endpoint):
    stack.control("/moto-api/reset", {}, endpoint)
    return client("backup", SOURCE, endpoint), client("backup", DESTINATION, endpoint)


def until_copied(backup_client, job_id: str) -> dict:
    deadline = time.monotonic() + 15
    while (job := backup_client.describe_copy_job(CopyJobId=job_id)["CopyJob"])["State"] in ("CREATED", "RUNNING"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


def test_a_copy_job_lands_the_point_with_its_tags_in_the_other_regions_vault(backup, endpoint):
    source, destination = backup
    source.create_backup_vault(BackupVaultName="snapmgmt-vault")
    vault = destination.create_backup_vault(BackupVaultName="snapmgmt-dr")["BackupVaultArn"]
    resource = f"arn:aws:elasticfilesystem:{SOURCE}:{stack.ACCOUNT_ID}:file-system/fs-01234567"
    made = stack.control(
        "/moto-api/snapmgmt/backup/recovery-points",
        {
            "vault": "snapmgmt-vault",
            "resourceArn": resource,
            "points": [{"tags": {"ManagedBy": "snapmgmt"}, "creationDate": time.time() - 60}],
        },
        endpoint,
    )
    [point] = made["recoveryPointArns"]
    start = dict(
        RecoveryPointArn=point,
        SourceBackupVaultName="snapmgmt-vault",
        DestinationBackupVaultArn=vault,
        IamRoleArn=f"arn:aws:iam::{stack.ACCOUNT_ID}:role/backup",
        IdempotencyToken="run-1",
    )

    job_id = source.start_copy_job(**start)["CopyJobId"]
    assert source.start_copy_job(**start)["CopyJobId"] == job_id, "the same token gives the same job"
    busy = lambda: source.delete_recovery_point(BackupVaultName="snapmgmt-vault", RecoveryPointArn=point)  # noqa: E731
    assert error_code(busy) == "InvalidResourceStateException", "a point being copied cannot be deleted"
    job = until_copied(source, job_id)

    assert job["State"] == "COMPLETED", job
    copied = job["DestinationRecoveryPointArn"]
    assert copied.startswith(f"arn:aws:backup:{DESTINATION}:")
    [listed] = destination.list_recovery_points_by_backup_vault(BackupVaultName="snapmgmt-dr")["RecoveryPoints"]
    assert (listed["RecoveryPointArn"], listed["ResourceArn"]) == (copied, resource)
    assert destination.list_tags(ResourceArn=copied)["Tags"] == {"ManagedBy": "snapmgmt"}

    missing = dict(start, DestinationBackupVaultArn=vault.replace("snapmgmt-dr", "nowhere"), IdempotencyToken="run-2")
    failed = until_copied(source, source.start_copy_job(**missing)["CopyJobId"])
    assert failed["State"] == "FAILED" and "does not exist" in failed["StatusMessage"], failed
