"""Test-control routes, beside moto's own /moto-api/ ones: set what a test cannot set through AWS.

POST /moto-api/snapmgmt/fsx/backup       {"backupId", "creationTime"?, "lifecycle"?, "type"?, "ownerId"?}
POST /moto-api/snapmgmt/fsx/file-system  {"fileSystemId", "lifecycle"?, "creationTime"?}
POST /moto-api/snapmgmt/fsx/next-restores {"backupId", "outcomes": [{"lifecycle": "FAILED", "message"}]}: how the next
     file systems or volumes made from that backup end (fsx.py)
POST /moto-api/snapmgmt/fsx/next-backups {"fileSystemId", "outcomes": [{"lifecycle": "FAILED", "seconds": 5}]}
POST /moto-api/snapmgmt/fsx/storage-virtual-machine {"fileSystemId", "name", "storageVirtualMachineId", "region"?}:
     an SVM with a known id, as an operator's existing one that a stack parameter names before it starts
POST /moto-api/snapmgmt/ec2/snapshot     {"snapshotId", "startTime"?, "state"?, "ownerId"?, "inUseBy"?}
POST /moto-api/snapmgmt/ssm/next-automations {"instanceId", "outcomes": [{"status": "Failed", "snapshots": true}]}
POST /moto-api/snapmgmt/ec2/sandbox    {"instanceId", "volumes": [{"mount", "fstype"}], "binds"?: [[from, to]]}: the
     instance runs its shell commands for real (sandbox.py); {"instanceId", "remove": true}: thawed and gone
POST /moto-api/snapmgmt/ec2/sandbox-run {"instanceId", "commands", "timeout"?, "background"?}: a command in it
POST /moto-api/snapmgmt/ssm/snapshot-delay {"instanceId", "seconds", "error"?}: how long its CreateSnapshots step
     takes, and (with "error") that it then fails
POST /moto-api/snapmgmt/ec2/vss        {"instanceId", "components": "2.4.0" | null, "failure"?: "..."}: the
     AwsVssComponents version installed on a Windows instance, and a VSS failure of its next runs (vss.py)
POST /moto-api/snapmgmt/backup/next-jobs {"resourceArn", "outcomes": [{"state": "FAILED", "message": "..."}]}
POST /moto-api/snapmgmt/backup/next-restores {"recoveryPointArn", "outcomes": [{"status": "FAILED", "message"}]}:
     how the next restores of a point into a new file system end (backup.py)
POST /moto-api/snapmgmt/efs/file-system  {"fileSystemId", "creationTime"}: when a file system was made
POST /moto-api/snapmgmt/backup/recovery-points {"vault", "resourceArn", "points": [{"tags", "creationDate",
     "status"?, "inUse"?}]}: recovery points as jobs leave them, aged; "inUse" as while a restore reads one
POST /moto-api/snapmgmt/fsx/bulk-backups {"fileSystemId", "backups": [{"tags": {...}, "creationTime"}]}: AVAILABLE ones
POST /moto-api/snapmgmt/ec2/next-copies  {"region", "outcomes": ["error"]}: how the next copies into that Region end
POST /moto-api/snapmgmt/ec2/bulk-snapshots {"snapshots": [{"volumeId", "tags": {...}, "startTime"}]}: completed ones
POST /moto-api/snapmgmt/iam/principals   a stack's roles and who acts as them (local/iam_template.py)
POST /moto-api/snapmgmt/lambda/functions {"endpoint", "region", "functions": {name: binary}}: another stack's
     functions, served by its own cargo lambda watch (lambda_functions.py)
GET  /moto-api/snapmgmt/iam/decisions    every IAM decision since the emulator started
GET  /moto-api/snapmgmt/validation       every request refused for breaking its service's model (validation.py)
POST /moto-api/snapmgmt/ec2/throttle     {"scale": 1}: EC2's request buckets on (throttle.py), null: off; GET: refusals
POST /moto-api/snapmgmt/ebs/block-faults {"snapshotId", "blockIndex", "fault": "corrupt" | "drop" | null}: one
     block of a snapshot read back wrong, or gone, through the EBS direct APIs (ebs.py)
POST /moto-api/snapmgmt/ec2/volume     {"volumeId", "createTime"}: when a volume was made (epoch seconds)
POST /moto-api/snapmgmt/ec2/volume-faults {"snapshotId", "fault": "error" | null}: volumes made from that snapshot
     end in `error` instead of `available` (volumes.py)
POST /moto-api/snapmgmt/lambda/answers {"function", "answers"}; GET /moto-api/snapmgmt/lambda/calls?function=NAME:
     an operator's function a stack calls, scripted, and its calls (lambda_functions.py)
GET  /moto-api/snapmgmt/sfn/map-runs?executionArn=ARN: each Map Run's children (status, history events, largest
     payload, the states each entered), as the Step Functions console shows child executions
Every body may also name "accountId" and "region" (default 123456789012 / us-east-1).
"""

import datetime
import json
import shlex

from moto.backup.models import backup_backends
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ec2.models import ec2_backends
from moto.fsx.models import fsx_backends
from moto.moto_api._internal import urls
from moto.ssm.models import ssm_backends

from . import (
    automation,
    backup,
    ebs,
    ec2,
    fsx,
    iam,
    lambda_functions,
    sandbox,
    sfn,
    ssm,
    throttle,
    validation,
    volumes,
    vss,
)


def _body(request) -> dict:
    raw = request.get_data() if hasattr(request, "get_data") else request.body
    return json.loads(raw or b"{}")


def _backend(backends, body: dict):
    return backends[body.get("accountId", DEFAULT_ACCOUNT_ID)][body.get("region", "us-east-1")]


def _fsx_backend(body: dict):
    return _backend(fsx_backends, body)


def _error(status: int, message: str):
    return status, {"Content-Type": "application/json"}, json.dumps({"message": message})


def _ok(payload: dict):
    return 200, {"Content-Type": "application/json"}, json.dumps(payload)


def fsx_backup(request, full_url, headers):
    body = _body(request)
    backup = _fsx_backend(body).backups.get(body.get("backupId"))
    if backup is None:
        return _error(404, f"no backup {body.get('backupId')!r}")
    if "creationTime" in body:
        backup.creation_time = float(body["creationTime"])
    if "lifecycle" in body:
        backup.lifecycle = body["lifecycle"]
    if "type" in body:
        backup.backup_type = body["type"]
    if "ownerId" in body:
        backup.owner_id = body["ownerId"]
    return _ok(backup.to_dict())


def fsx_file_system(request, full_url, headers):
    body = _body(request)
    fs = _fsx_backend(body).file_systems.get(body.get("fileSystemId"))
    if fs is None:
        return _error(404, f"no file system {body.get('fileSystemId')!r}")
    if "lifecycle" in body:
        fs.lifecycle = body["lifecycle"]
    if "creationTime" in body:
        fs.creation_time = float(body["creationTime"])
    return _ok(fs.to_dict())


def fsx_next_restores(request, full_url, headers):
    body = _body(request)
    fsx.next_restores(_fsx_backend(body))[body["backupId"]] = list(body.get("outcomes", []))
    return _ok({"scripted": len(body.get("outcomes", []))})


def fsx_storage_virtual_machine(request, full_url, headers):
    body = _body(request)
    backend = _fsx_backend(body)
    svm_id = body["storageVirtualMachineId"]
    if svm_id in fsx.svms(backend):
        return _ok(fsx.svms(backend)[svm_id])
    return _ok(fsx.create_storage_virtual_machine(backend, body["fileSystemId"], body["name"], None, svm_id))


def fsx_next_backups(request, full_url, headers):
    body = _body(request)
    backend = _fsx_backend(body)
    fsx.next_outcomes(backend)[body["fileSystemId"]] = list(body.get("outcomes", []))
    return _ok({"scripted": len(body.get("outcomes", []))})


def ec2_snapshot(request, full_url, headers):
    body = _body(request)
    backend = _backend(ec2_backends, body)
    snapshot = backend.snapshots.get(body.get("snapshotId"))
    if snapshot is None:
        return _error(404, f"no snapshot {body.get('snapshotId')!r}")
    if "startTime" in body:
        snapshot.start_time = datetime.datetime.fromtimestamp(float(body["startTime"]), datetime.timezone.utc)
    if "state" in body:  # pending stays pending; completed and error take effect now
        snapshot.ready_at = float("inf") if body["state"] == "pending" else 0
        snapshot.status = "completed" if body["state"] == "pending" else body["state"]
    if "ownerId" in body:
        snapshot.owner_id = body["ownerId"]
    if "inUseBy" in body:  # an AMI id: DescribeImages lists the snapshot, DeleteSnapshot answers InUse
        snapshot.from_ami = body["inUseBy"]
        if body["inUseBy"] in backend.amis:
            backend.amis[body["inUseBy"]].ebs_snapshot = snapshot
    return _ok({"snapshotId": snapshot.id, "state": snapshot.status})


def ssm_next_automations(request, full_url, headers):
    body = _body(request)
    ssm.next_outcomes(_backend(ssm_backends, body))[body["instanceId"]] = list(body.get("outcomes", []))
    return _ok({"scripted": len(body.get("outcomes", []))})


def ec2_sandbox(request, full_url, headers):
    body = _body(request)
    if body.get("remove"):
        sandbox.destroy(body["instanceId"])
        return _ok({"removed": body["instanceId"]})
    made = sandbox.create(body["instanceId"], body["volumes"], body.get("binds"))
    return _ok({"instanceId": made.instance_id, "mounts": made.mountinfo()})


def ec2_sandbox_run(request, full_url, headers):
    body = _body(request)
    instance = sandbox.of(body["instanceId"])
    if instance is None:
        return _error(400, f"{body['instanceId']} has no sandbox")
    if body.get("background"):
        # A process that outlives this request (a writer the test follows): nohup'd, its output discarded.
        instance.run(f"setsid nohup bash -c {shlex.quote(body['commands'])} >/dev/null 2>&1 &", 10)
        return _ok({"started": True})
    code, out, err = instance.run(body["commands"], float(body.get("timeout", 30)))
    return _ok({"exitCode": code, "stdout": out, "stderr": err})


def ssm_snapshot_delay(request, full_url, headers):
    body = _body(request)
    automation.snapshot_delays[body["instanceId"]] = float(body["seconds"])
    if body.get("error"):
        automation.snapshot_errors[body["instanceId"]] = body["error"]
    else:
        automation.snapshot_errors.pop(body["instanceId"], None)
    return _ok({"seconds": automation.snapshot_delays[body["instanceId"]]})


def ec2_vss(request, full_url, headers):
    body = _body(request)
    instance = body["instanceId"]
    for knob, value in ((vss.components, body.get("components")), (vss.vss_failures, body.get("failure"))):
        if value:
            knob[instance] = value
        else:
            knob.pop(instance, None)
    return _ok({})


def backup_next_jobs(request, full_url, headers):
    body = _body(request)
    backup.next_outcomes(_backend(backup_backends, body))[body["resourceArn"]] = list(body.get("outcomes", []))
    return _ok({"scripted": len(body.get("outcomes", []))})


def backup_next_restores(request, full_url, headers):
    body = _body(request)
    outcomes = list(body.get("outcomes", []))
    backup.next_restores(_backend(backup_backends, body))[body["recoveryPointArn"]] = outcomes
    return _ok({"scripted": len(outcomes)})


def efs_file_system(request, full_url, headers):
    from moto.efs.models import efs_backends

    body = _body(request)
    file_system = _backend(efs_backends, body).file_systems_by_id.get(body.get("fileSystemId"))
    if file_system is None:
        return _error(404, f"no file system {body.get('fileSystemId')!r}")
    file_system.creation_time = float(body["creationTime"])
    return _ok({})


def backup_recovery_points(request, full_url, headers):
    body = _body(request)
    backend = _backend(backup_backends, body)
    if body.get("vault") not in backend.vaults:
        return _error(404, f"no vault {body.get('vault')!r}")
    refused = [
        m for spec in body.get("points", []) for m in validation.seeded_tags("backup", "Tags", spec.get("tags", {}))
    ]
    if refused:
        return _error(400, "; ".join(refused))
    arns = []
    for spec in body.get("points", []):
        point = backup.add_recovery_point(
            backend,
            body["vault"],
            body["resourceArn"],
            spec.get("tags", {}),
            float(spec["creationDate"]),
            spec.get("status", "COMPLETED"),
        )
        if spec.get("inUse"):
            point["inUse"] = True
        arns.append(point["RecoveryPointArn"])
    return _ok({"recoveryPointArns": arns})


def fsx_bulk_backups(request, full_url, headers):
    """Many finished backups at once, for benchmarks: made as CreateBackup makes them, then aged."""
    body = _body(request)
    backend = _fsx_backend(body)
    ids = []
    for spec in body.get("backups", []):
        tags = [{"Key": k, "Value": v} for k, v in spec.get("tags", {}).items()]
        refused = validation.seeded_tags("fsx", "Tags", tags)
        if refused:
            return _error(400, "; ".join(refused))
        backup = backend.create_backup(body["fileSystemId"], None, None, tags)
        backup.lifecycle = "AVAILABLE"
        backup.creation_time = float(spec["creationTime"])
        ids.append(backup.backup_id)
    return _ok({"backupIds": ids})


def ec2_bulk_snapshots(request, full_url, headers):
    """Many completed snapshots at once, for benchmarks: made as CreateSnapshot makes them, then aged."""
    body = _body(request)
    backend = _backend(ec2_backends, body)
    ids = []
    for spec in body.get("snapshots", []):
        tags = spec.get("tags", {})
        refused = validation.seeded_tags("ec2", "TagList", [{"Key": k, "Value": v} for k, v in tags.items()])
        if refused:
            return _error(400, "; ".join(refused))
        # Ours carry the Description snapmgmt writes (instance and run), as CreateSnapshots sets it.
        ours = "snapmgmt:TargetId" in tags and "snapmgmt:RunId" in tags
        description = f"snapmgmt {tags.get('snapmgmt:TargetId')} {tags.get('snapmgmt:RunId')}" if ours else "bulk"
        snapshot = backend.create_snapshot(spec["volumeId"], description)
        backend.create_tags([snapshot.id], spec.get("tags", {}))
        snapshot.start_time = datetime.datetime.fromtimestamp(float(spec["startTime"]), datetime.timezone.utc)
        snapshot.ready_at = 0
        snapshot.status = "completed"
        ids.append(snapshot.id)
    return _ok({"snapshotIds": ids})


def sfn_map_runs(request, full_url, headers):
    from urllib.parse import parse_qs, urlparse

    execution_arn = parse_qs(urlparse(full_url).query).get("executionArn", [""])[0]
    runs = {
        arn: [
            {
                k: kid[k]
                for k in ("name", "index", "status", "error", "historyEvents", "largestPayload", "statesEntered")
            }
            for kid in sorted(kids, key=lambda k: k["index"])
        ]
        for arn, kids in sfn.map_runs_of(execution_arn).items()
    }
    return _ok({"mapRuns": runs})


def ec2_next_copies(request, full_url, headers):
    body = _body(request)
    ec2.next_copy_outcomes(_backend(ec2_backends, body))[:] = list(body.get("outcomes", []))
    return _ok({})


def iam_principals(request, full_url, headers):
    iam.configure(_body(request))
    return _ok({})


def lambda_answers(request, full_url, headers):
    lambda_functions.script(_body(request))
    return _ok({})


def lambda_calls(request, full_url, headers):
    from urllib.parse import parse_qs, urlparse

    name = parse_qs(urlparse(full_url).query).get("function", [""])[0]
    return _ok({"calls": lambda_functions.calls_of(name)})


def lambda_functions_route(request, full_url, headers):
    lambda_functions.register(_body(request))
    return _ok({})


def iam_decisions(request, full_url, headers):
    return _ok({"decisions": iam.decisions()})


def ec2_throttle(request, full_url, headers):
    if request.method == "POST":
        throttle.configure(_body(request).get("scale"))
    return _ok({"refusals": throttle.refusals()})


def ebs_block_faults(request, full_url, headers):
    body = _body(request)
    try:
        ebs.set_fault(body["snapshotId"], int(body["blockIndex"]), body.get("fault"))
    except (KeyError, ValueError) as e:
        return _error(400, str(e))
    return _ok({})


def ec2_volume(request, full_url, headers):
    body = _body(request)
    volume = _backend(ec2_backends, body).volumes.get(body.get("volumeId"))
    if volume is None:
        return _error(404, f"no volume {body.get('volumeId')!r}")
    volume.create_time = datetime.datetime.fromtimestamp(float(body["createTime"]), datetime.timezone.utc)
    return _ok({})


def ec2_volume_faults(request, full_url, headers):
    body = _body(request)
    try:
        volumes.set_fault(body["snapshotId"], body.get("fault"))
    except (KeyError, ValueError) as e:
        return _error(400, str(e))
    return _ok({})


def validation_refusals(request, full_url, headers):
    return _ok({"refusals": validation.refusals()})


ROUTES = {
    "{0}/moto-api/snapmgmt/sfn/map-runs": sfn_map_runs,
    "{0}/moto-api/snapmgmt/fsx/bulk-backups": fsx_bulk_backups,
    "{0}/moto-api/snapmgmt/ec2/bulk-snapshots": ec2_bulk_snapshots,
    "{0}/moto-api/snapmgmt/fsx/backup": fsx_backup,
    "{0}/moto-api/snapmgmt/fsx/file-system": fsx_file_system,
    "{0}/moto-api/snapmgmt/fsx/next-backups": fsx_next_backups,
    "{0}/moto-api/snapmgmt/fsx/next-restores": fsx_next_restores,
    "{0}/moto-api/snapmgmt/fsx/storage-virtual-machine": fsx_storage_virtual_machine,
    "{0}/moto-api/snapmgmt/ec2/snapshot": ec2_snapshot,
    "{0}/moto-api/snapmgmt/ssm/next-automations": ssm_next_automations,
    "{0}/moto-api/snapmgmt/backup/next-jobs": backup_next_jobs,
    "{0}/moto-api/snapmgmt/backup/next-restores": backup_next_restores,
    "{0}/moto-api/snapmgmt/efs/file-system": efs_file_system,
    "{0}/moto-api/snapmgmt/ec2/sandbox": ec2_sandbox,
    "{0}/moto-api/snapmgmt/ec2/sandbox-run": ec2_sandbox_run,
    "{0}/moto-api/snapmgmt/ssm/snapshot-delay": ssm_snapshot_delay,
    "{0}/moto-api/snapmgmt/ec2/vss": ec2_vss,
    "{0}/moto-api/snapmgmt/backup/recovery-points": backup_recovery_points,
    "{0}/moto-api/snapmgmt/ec2/next-copies": ec2_next_copies,
    "{0}/moto-api/snapmgmt/iam/principals": iam_principals,
    "{0}/moto-api/snapmgmt/iam/decisions": iam_decisions,
    "{0}/moto-api/snapmgmt/lambda/functions": lambda_functions_route,
    "{0}/moto-api/snapmgmt/lambda/answers": lambda_answers,
    "{0}/moto-api/snapmgmt/lambda/calls": lambda_calls,
    "{0}/moto-api/snapmgmt/validation": validation_refusals,
    "{0}/moto-api/snapmgmt/ec2/throttle": ec2_throttle,
    "{0}/moto-api/snapmgmt/ebs/block-faults": ebs_block_faults,
    "{0}/moto-api/snapmgmt/ec2/volume": ec2_volume,
    "{0}/moto-api/snapmgmt/ec2/volume-faults": ec2_volume_faults,
}


def install() -> None:
    urls.url_paths.update(ROUTES)
