"""The bad-input matrix: every function invoked as the console's test invoke does, with events that are
empty, of the wrong types, naming unknown ids, or too long. Each answers with an error that names the
field (or the id), and changes nothing. In the workflow, such a target fails alone and the report says why."""

import json
import os

import pytest
import stack
import workflow
from moto_ext.lambda_functions import FunctionInvoker
from test_sample_events import STATE_MACHINES, state_machine_arn, write_inventory

UNKNOWN_FS = "fs-0123456789abcdef0"
UNKNOWN_INSTANCE = "i-0123456789abcdef0"
TOO_MANY_SNAPSHOTS = [f"snap-{n:017x}" for n in range(129)]

# (function, event, errorType, what the message must name)
CASES = [
    ("trigger", [], "InvalidEvent", "(event)"),
    ("trigger", {"dryRun": "yes"}, "InvalidEvent", "dryRun"),
    ("trigger", {"time": "yesterday"}, "InvalidEvent", "time"),
    ("trigger", {"maxDeletePercent": 500}, "InvalidEvent", "maxDeletePercent"),
    ("trigger", {"timing": {"fsxWaitSeconds": -1}}, "InvalidEvent", "timing.fsxWaitSeconds"),
    ("trigger", {"timing": {"fsxWaitSecs": 1}}, "InvalidEvent", "fsxWaitSecs"),
    ("check-in-progress", {}, "InvalidEvent", "kind"),
    ("check-in-progress", {"kind": "fsx"}, "InvalidEvent", "fileSystemId"),
    ("check-in-progress", {"kind": "fsx", "fileSystemId": 5}, "InvalidEvent", "fileSystemId"),
    ("check-in-progress", {"kind": "fsx", "fileSystemId": UNKNOWN_FS}, "NotFound", UNKNOWN_FS),
    (
        "check-in-progress",
        {"kind": "ec2Snapshot", "instanceId": UNKNOWN_INSTANCE, "snapshotIds": TOO_MANY_SNAPSHOTS},
        "InvalidEvent",
        "snapshotIds",
    ),
    ("backup-fsx", {}, "InvalidEvent", "fileSystemId"),
    ("backup-fsx", {"fileSystemId": [UNKNOWN_FS]}, "InvalidEvent", "fileSystemId"),
    ("backup-fsx", {"fileSystemId": UNKNOWN_FS, "dryRun": True}, "NotFound", UNKNOWN_FS),
    ("snapshot-ebs", {}, "InvalidEvent", "instanceId"),
    ("snapshot-ebs", {"instanceId": UNKNOWN_INSTANCE, "attempt": -1}, "InvalidEvent", "attempt"),
    ("snapshot-ebs", {"instanceId": UNKNOWN_INSTANCE}, "NotFound", UNKNOWN_INSTANCE),
    ("cleanup", {}, "InvalidEvent", "kind"),
    ("cleanup", {"kind": "fsx", "fileSystemId": "fs-x"}, "InvalidEvent", "fileSystemId"),
    (
        "cleanup",
        {"kind": "fsx", "fileSystemId": UNKNOWN_FS, "newBackupId": None, "dryRun": 1},
        "InvalidEvent",
        "dryRun",
    ),
    (
        "cleanup",
        {"kind": "ec2", "instanceId": UNKNOWN_INSTANCE, "newSnapshotIds": TOO_MANY_SNAPSHOTS},
        "InvalidEvent",
        "newSnapshotIds",
    ),
    ("efs-backup", {}, "InvalidEvent", "action"),
    ("efs-backup", {"action": "start"}, "InvalidEvent", "fileSystemId"),
    ("efs-backup", {"action": "status", "backupJobId": 5}, "InvalidEvent", "backupJobId"),
    ("efs-backup", {"action": "start", "fileSystemId": "fs-01234567"}, "NotFound", "fs-01234567"),
    ("verify", {}, "InvalidEvent", "instanceId"),
    ("verify", {"instanceId": UNKNOWN_INSTANCE, "round": -1}, "InvalidEvent", "round"),
    ("verify", {"instanceId": UNKNOWN_INSTANCE, "maxBytes": 0}, "InvalidEvent", "maxBytes"),
    ("verify", {"instanceId": UNKNOWN_INSTANCE, "restore": "yes"}, "InvalidEvent", "restore"),
    ("verify", {"action": "restore", "runId": "verify-1"}, "InvalidEvent", "action"),
    ("verify", {"action": "record", "runId": "verify-1", "round": 0}, "InvalidEvent", "results"),
]


def everything(fsx, ec2):
    """What exists: backups, snapshots, recovery points."""
    backups = {b["BackupId"] for b in fsx.describe_backups()["Backups"]}
    snapshots = {s["SnapshotId"] for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    return backups, snapshots


@pytest.mark.parametrize("function,event,error_type,named", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_a_bad_event_is_named_and_changes_nothing(aws, function, event, error_type, named):
    ec2 = stack.client("ec2")
    fs = stack.create_file_system(aws)
    stack.create_backup(aws, fs, 30, ours=True)
    before = everything(aws, ec2)

    invoker = FunctionInvoker(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    response = invoker.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    answer = json.loads(response["Payload"].read())

    assert response.get("FunctionError"), answer
    assert answer["errorType"] == error_type, answer
    assert named in answer["errorMessage"], answer
    assert everything(aws, ec2) == before


def test_the_workflow_reports_a_bad_target_and_does_the_others(aws):
    fs = stack.create_file_system(aws)
    sample = json.loads((STATE_MACHINES / "snapshot-mgmt.json").read_text())
    sample.update(dryRun=False)
    write_inventory(sample, {"fsx": ["fs-NOT-AN-ID", fs]})
    sample["timing"].update({"fsxWaitSeconds": 1, "fsxPollSeconds": 1})
    sfn = stack.client("stepfunctions")

    started = sfn.start_execution(stateMachineArn=state_machine_arn("snapmgmt-snapshot-mgmt"), input=json.dumps(sample))
    summary = workflow.summarize(sfn, {}, workflow.wait_for(sfn, started["executionArn"], timeout=120))

    assert summary["status"] == "FAILED"
    assert summary["failedTargets"] == ["fs-NOT-AN-ID"]
    bad = next(t for t in summary["targets"] if t["targetId"] == "fs-NOT-AN-ID")
    assert bad["error"] == "InvalidEvent" and "fileSystemId" in bad["cause"], bad
    assert next(t for t in summary["targets"] if t["targetId"] == fs)["created"]
