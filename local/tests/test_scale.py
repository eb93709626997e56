"""The scheduled workflow over a fleet: 1,000 targets in one run on the local stack (most of them direct-mode
instances), with exact totals, one target deleting more ids than a report lists, and the parent execution's
history and state as small as for one target; EC2's request rate limits on (moto_ext/throttle.py)."""

import collections
import json
import time

import stack
from test_workflow import run, target

INSTANCES, FILE_SYSTEMS, EFS = 960, 20, 20
EXPIRED_SETS, YOUNG_SETS = 150, 160


def launch_instances(ec2, count: int) -> list:
    """Direct-mode target instances of one data volume each, launched in batches."""
    image = ec2.describe_images()["Images"][0]["ImageId"]
    tags = [stack.TARGET_TAG, {"Key": "snapmgmt:SnapshotMode", "Value": "direct"}]
    ids = []
    while len(ids) < count:
        n = min(500, count - len(ids))
        launched = ec2.run_instances(
            ImageId=image,
            MinCount=n,
            MaxCount=n,
            BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 8}}],
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
        ids += [i["InstanceId"] for i in launched["Instances"]]
    return ids


def seed_sets(ec2, instance: str, sets: int, age_days: float, run_prefix: str) -> None:
    """Completed one-snapshot sets of ours, each of its own run, through the emulator's bulk route."""
    [mapping] = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0][
        "BlockDeviceMappings"
    ][-1:]
    started = time.time() - age_days * stack.DAY
    snapshots = [
        {
            "volumeId": mapping["Ebs"]["VolumeId"],
            "startTime": started + n,
            "tags": {"ManagedBy": "snapmgmt", "snapmgmt:TargetId": instance, "snapmgmt:RunId": f"{run_prefix}-{n}"},
        }
        for n in range(sets)
    ]
    stack.control("/moto-api/snapmgmt/ec2/bulk-snapshots", {"snapshots": snapshots})


def history(execution_arn: str) -> list:
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    return [e for page in pages for e in page["events"]]


def test_a_thousand_targets_in_one_run_with_exact_totals(aws):
    ec2, efs = stack.client("ec2"), stack.client("efs")
    instances = launch_instances(ec2, INSTANCES)
    heavy = instances[0]
    seed_sets(ec2, heavy, EXPIRED_SETS, 20, "old")
    seed_sets(ec2, heavy, YOUNG_SETS, 1, "young")
    file_systems = [stack.create_file_system(aws, name=f"fleet-{n}") for n in range(FILE_SYSTEMS)]
    for fs in file_systems:
        stack.create_backup(aws, fs, 20, ours=True)
        stack.create_backup(aws, fs, 2, ours=True)
    for n in range(EFS):
        stack.create_efs(efs, name=f"fleet-{n}")

    # EC2 holds the stack to its request buckets (throttle.py), as AWS would over a fleet.
    stack.control("/moto-api/snapmgmt/ec2/throttle", {"scale": 1})
    summary = run(timeout=1800)
    throttled = collections.Counter(
        r["action"] for r in stack.control_get("/moto-api/snapmgmt/ec2/throttle")["refusals"]
    )

    assert summary["status"] == "SUCCEEDED", (summary["error"], summary["cause"])
    totals = summary["totals"]
    # Every target's new backup was copied to the suite's copy Region, where nothing was old enough to go.
    copies = totals.pop("copies")
    assert (copies["copied"], copies["deleted"]) == (INSTANCES + FILE_SYSTEMS + EFS, 0), copies
    assert {k: v for k, v in totals.items() if k != "kept"} == {
        "targets": INSTANCES + FILE_SYSTEMS + EFS,
        "failedTargets": 0,
        "created": INSTANCES + FILE_SYSTEMS + EFS,
        "deleted": EXPIRED_SETS + FILE_SYSTEMS,
        "failedDeletes": 0,
        "orphans": 0,
    }
    # The heavy instance deleted all 150 expired snapshots; its report lists the first 100 and says it is cut.
    cleanup = target(summary, heavy)["cleanup"]
    assert cleanup["counts"]["deleted"] == EXPIRED_SETS and len(cleanup["deleted"]) == 100 and cleanup["truncated"]
    assert len(stack.snapshots(ec2, heavy)) == YOUNG_SETS + 1

    # Whatever the fleet, the parent holds a few dozen events and small states; the targets are in its children.
    events = history(summary["execution"])
    largest = max(
        len((e.get("stateExitedEventDetails") or e.get("stateEnteredEventDetails") or {}).get("output", "") or "")
        for e in events
    )
    assert len(events) < 100 and largest < 4096, (len(events), largest)
    runs = stack.control_get(f"/moto-api/snapmgmt/sfn/map-runs?executionArn={summary['execution']}")["mapRuns"]
    children = [c for kids in runs.values() for c in kids]
    assert len(children) == INSTANCES + FILE_SYSTEMS + EFS and all(c["status"] == "SUCCEEDED" for c in children)
    print(
        "scale figures:",
        json.dumps(
            {
                "targets": len(children),
                "seconds": summary["seconds"],
                "parentEvents": len(events),
                "largestChildEvents": max(c["historyEvents"] for c in children),
                "largestChildPayload": max(c["largestPayload"] for c in children),
                # Requests EC2's buckets refused (RequestLimitExceeded), by action: retried, none failed a target.
                "throttled": dict(throttled),
            }
        ),
    )
