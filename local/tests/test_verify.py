"""The verify function on the local stack, as its role (IAM enforced with template.yaml's policy): an
instance's newest snapshot set of this stack read back through the EBS direct APIs, a corrupt block found and
named, another stack's snapshots neither picked nor readable, and nothing changed."""

import json
import os
import time

import stack
from moto_ext.lambda_functions import FunctionInvoker

DAY = 86_400


def invoke(event: dict) -> dict:
    client = FunctionInvoker(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    response = client.invoke(FunctionName="verify", Payload=json.dumps(event).encode())
    answer = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), answer
    return answer


def snapshot_set(ec2, instance: str, run: str, age_days: float, stack_id: str = stack.STACK_ID) -> list:
    """A completed set of ours of every volume of the instance, made `age_days` ago; its ids, sorted."""
    mappings = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]
    tags = {"ManagedBy": "snapmgmt", "snapmgmt:TargetId": instance, "snapmgmt:RunId": run, "snapmgmt:Stack": stack_id}
    specs = [
        {"volumeId": m["Ebs"]["VolumeId"], "tags": tags, "startTime": time.time() - age_days * DAY} for m in mappings
    ]
    return sorted(stack.control("/moto-api/snapmgmt/ec2/bulk-snapshots", {"snapshots": specs})["snapshotIds"])


def inventory(ec2) -> list:
    return sorted(
        json.dumps(s, default=str, sort_keys=True) for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    )


def test_the_newest_set_of_this_stack_reads_back_and_a_corrupt_block_is_named(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=1)
    older = snapshot_set(ec2, instance, "run-a", 3)
    newest = snapshot_set(ec2, instance, "run-b", 1)
    snapshot_set(ec2, instance, "run-other", 0.5, stack_id="other@us-east-1")
    before = inventory(ec2)

    check = invoke({"instanceId": instance, "round": 2})

    assert check["outcome"] == "verified", check
    assert (check["backup"], check["previous"]) == (newest, older), "this stack's newest, not the other's"
    assert check["blocksRead"] > 0 and check["changedBytes"] > 0 and check["badBlocks"] == []
    assert inventory(ec2) == before, "a verification changes nothing"

    snapshot = newest[0]
    blocks = stack.client("ebs").list_snapshot_blocks(SnapshotId=snapshot)["Blocks"]
    corrupt = next(b["BlockIndex"] for b in blocks if b["BlockIndex"] % 8 == 2)  # read in round 2
    stack.control(
        "/moto-api/snapmgmt/ebs/block-faults", {"snapshotId": snapshot, "blockIndex": corrupt, "fault": "corrupt"}
    )

    failed = invoke({"instanceId": instance, "round": 2})

    assert failed["outcome"] == "failed"
    assert [(b["snapshotId"], b["blockIndex"]) for b in failed["badBlocks"]] == [(snapshot, corrupt)]
