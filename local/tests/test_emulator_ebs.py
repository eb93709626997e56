"""The EBS direct APIs as AWS serves them, over snapshots EC2 made (moto_ext/ebs.py): written blocks only, in
index order, paged within MaxResults' range; a block read with the token its listing gave, its data matching
its SHA256 checksum; a lineage's unchanged blocks shared, its changed ones listed by ListChangedBlocks; a copy
holding its source's data; a pending snapshot refused; a corrupt or dropped block as the control route sets. And
a volume made from a snapshot as EC2 makes it (moto_ext/volumes.py): creating, then available or in error."""

import base64
import hashlib

import botocore.config
import pytest
import stack
from test_emulator_copies import error_code

REGION, COPY_REGION = "us-east-1", "us-west-2"
DAY = 86_400


@pytest.fixture(scope="module")
def endpoint(emulator_alone):
    return emulator_alone


@pytest.fixture
def clients(endpoint):
    stack.control("/moto-api/reset", {}, endpoint)
    return stack.client("ec2", endpoint, region=REGION), stack.client("ebs", endpoint, region=REGION)


def set_snapshot(url: str, snapshot: str, **fields) -> None:
    stack.control("/moto-api/snapmgmt/ec2/snapshot", {"snapshotId": snapshot, **fields}, url)


def snapshot_at(ec2, url: str, volume: str, started: float) -> str:
    snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    set_snapshot(url, snapshot, startTime=started, state="completed")
    return snapshot


def read(ebs, snapshot: str, block: dict, token: str = None) -> dict:
    token = token or block["BlockToken"]
    return ebs.get_snapshot_block(SnapshotId=snapshot, BlockIndex=block["BlockIndex"], BlockToken=token)


def sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def all_blocks(ebs, snapshot: str, page: int = 10_000) -> list:
    blocks, token = [], None
    while True:
        asked = {"SnapshotId": snapshot, "MaxResults": page, **({"NextToken": token} if token else {})}
        answer = ebs.list_snapshot_blocks(**asked)
        assert answer["BlockSize"] == 512 * 1024 and answer["VolumeSize"] == 8
        blocks += answer["Blocks"]
        token = answer.get("NextToken")
        if not token:
            return blocks


def test_blocks_are_listed_in_order_paged_and_read_with_their_checksums(clients, endpoint):
    ec2, ebs = clients
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    snapshot = snapshot_at(ec2, endpoint, volume, 1_700_000_000)

    blocks = all_blocks(ebs, snapshot)
    assert 100 < len(blocks) < 16_384, "written blocks only, not every block of the 8 GiB"
    assert [b["BlockIndex"] for b in blocks] == sorted({b["BlockIndex"] for b in blocks})
    assert all_blocks(ebs, snapshot, page=100) == blocks, "pages of 100 give the same blocks"
    # Past the SDK's own check, the emulator holds MaxResults to its range as AWS does.
    unchecked = stack.client("ebs", endpoint, config=botocore.config.Config(parameter_validation=False))
    too_few = lambda: unchecked.list_snapshot_blocks(SnapshotId=snapshot, MaxResults=99)  # noqa: E731
    assert error_code(too_few) == "ValidationException"

    block = read(ebs, snapshot, blocks[0])
    data = block["BlockData"].read()
    assert len(data) == block["DataLength"] == 512 * 1024
    assert (block["ChecksumAlgorithm"], block["Checksum"]) == ("SHA256", sha256(data))
    assert error_code(lambda: read(ebs, snapshot, blocks[0], token=blocks[1]["BlockToken"])) == "ValidationException"
    gone = lambda: ebs.list_snapshot_blocks(SnapshotId="snap-0123456789abcdef0")  # noqa: E731
    assert error_code(gone) == "ResourceNotFoundException"


def test_a_lineage_shares_its_unchanged_blocks_and_lists_the_changed_ones(clients, endpoint):
    ec2, ebs = clients
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    first = snapshot_at(ec2, endpoint, volume, 1_700_000_000)
    same_day = snapshot_at(ec2, endpoint, volume, 1_700_000_000 + 60)
    later = snapshot_at(ec2, endpoint, volume, 1_700_000_000 + 3 * DAY)

    tokens = lambda s: {b["BlockIndex"]: b["BlockToken"] for b in all_blocks(ebs, s)}  # noqa: E731
    assert tokens(first) == tokens(same_day)
    assert ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId=same_day)["ChangedBlocks"] == []
    changed = ebs.list_changed_blocks(FirstSnapshotId=first, SecondSnapshotId=later)["ChangedBlocks"]
    differ = {i for i, token in tokens(later).items() if tokens(first)[i] != token}
    assert {b["BlockIndex"] for b in changed} == differ and 0 < len(differ) < len(tokens(first))
    other_volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    stranger = snapshot_at(ec2, endpoint, other_volume, 1_700_000_000)
    not_lineage = lambda: ebs.list_changed_blocks(FirstSnapshotId=stranger, SecondSnapshotId=later)  # noqa: E731
    assert error_code(not_lineage) == "ValidationException"
    backwards = lambda: ebs.list_changed_blocks(FirstSnapshotId=later, SecondSnapshotId=first)  # noqa: E731
    assert error_code(backwards) == "ValidationException"


def test_a_copy_holds_its_sources_data_and_a_pending_snapshot_is_refused(clients, endpoint):
    ec2, ebs = clients
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    source = snapshot_at(ec2, endpoint, volume, 1_700_000_000)
    there_ec2 = stack.client("ec2", endpoint, region=COPY_REGION)
    there_ebs = stack.client("ebs", endpoint, region=COPY_REGION)
    copy = there_ec2.copy_snapshot(SourceRegion=REGION, SourceSnapshotId=source)["SnapshotId"]
    assert error_code(lambda: there_ebs.list_snapshot_blocks(SnapshotId=copy)) == "ValidationException", "pending"
    set_snapshot(endpoint, copy, state="completed", region=COPY_REGION)

    here = all_blocks(ebs, source)
    there = all_blocks(there_ebs, copy)
    assert [b["BlockIndex"] for b in there] == [b["BlockIndex"] for b in here]
    assert read(there_ebs, copy, there[5])["Checksum"] == read(ebs, source, here[5])["Checksum"]


def test_the_control_route_corrupts_or_drops_one_block(clients, endpoint):
    ec2, ebs = clients
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    snapshot = snapshot_at(ec2, endpoint, volume, 1_700_000_000)
    blocks = all_blocks(ebs, snapshot)
    corrupt, dropped = blocks[2], blocks[4]
    for block, fault in ((corrupt, "corrupt"), (dropped, "drop")):
        body = {"snapshotId": snapshot, "blockIndex": block["BlockIndex"], "fault": fault}
        stack.control("/moto-api/snapmgmt/ebs/block-faults", body, endpoint)

    answer = read(ebs, snapshot, corrupt)
    assert answer["Checksum"] != sha256(answer["BlockData"].read())
    assert error_code(lambda: read(ebs, snapshot, dropped)) == "ResourceNotFoundException"
    assert all_blocks(ebs, snapshot) == blocks, "both still listed"
    healthy = read(ebs, snapshot, blocks[3])
    assert healthy["Checksum"] == sha256(healthy["BlockData"].read())


def test_a_volume_from_a_snapshot_is_creating_then_available_or_in_error_and_is_deleted_only_then(clients, endpoint):
    ec2, _ = clients
    volume = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=8)["VolumeId"]
    pending = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
    refused = lambda: ec2.create_volume(AvailabilityZone=f"{REGION}a", SnapshotId=pending)  # noqa: E731
    assert error_code(refused) == "IncorrectState", "a snapshot that is not completed"
    good = snapshot_at(ec2, endpoint, volume, 1_700_000_000)
    bad = snapshot_at(ec2, endpoint, volume, 1_700_000_100)
    stack.control("/moto-api/snapmgmt/ec2/volume-faults", {"snapshotId": bad, "fault": "error"}, endpoint)

    restored = ec2.create_volume(AvailabilityZone=f"{REGION}a", SnapshotId=good)["VolumeId"]
    failed = ec2.create_volume(AvailabilityZone=f"{REGION}a", SnapshotId=bad)["VolumeId"]

    states = lambda: {v["VolumeId"]: v["State"] for v in ec2.describe_volumes(VolumeIds=[restored, failed])["Volumes"]}  # noqa: E731
    assert states() == {restored: "creating", failed: "creating"}
    assert error_code(lambda: ec2.delete_volume(VolumeId=restored)) == "IncorrectState", "not while creating"
    ec2.get_waiter("volume_available").wait(VolumeIds=[restored], WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    assert states() == {restored: "available", failed: "error"}
    assert ec2.describe_volumes(VolumeIds=[restored])["Volumes"][0]["Size"] == 8, "the snapshot's size"
    for done in (restored, failed):
        ec2.delete_volume(VolumeId=done)
    assert error_code(lambda: ec2.describe_volumes(VolumeIds=[restored])) == "InvalidVolume.NotFound"
