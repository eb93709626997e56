"""AWS Backup jobs, on moto's Backup models: moto 5.2 has vaults but no StartBackupJob, DescribeBackupJob
or ListRecoveryPointsByBackupVault. Here a job goes CREATED -> RUNNING -> COMPLETED over
SNAPMGMT_EMULATOR_BACKUP_JOB_SECONDS (or ends as a test scripted: FAILED, ABORTED, EXPIRED, with a
message), and a completed job leaves a recovery point in its vault. The same IdempotencyToken returns the
same job. Restore jobs (StartRestoreJob, DescribeRestoreJob) run as their role and complete at once."""

import json
import os
import time
import uuid

from moto.backup import responses, urls
from moto.backup.exceptions import ResourceNotFoundException
from moto.core.utils import unix_time

from . import iam

JOB_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_BACKUP_JOB_SECONDS", "2"))


def _state(backend) -> dict:
    if not hasattr(backend, "snapmgmt_jobs"):
        backend.snapmgmt_jobs = {"jobs": {}, "tokens": {}, "next_outcomes": {}}
    return backend.snapmgmt_jobs


def next_outcomes(backend) -> dict:
    """resource ARN -> outcomes of its next jobs, e.g. {"state": "FAILED", "message": "..."}."""
    return _state(backend)["next_outcomes"]


def _denied_to_the_role(job: dict) -> str | None:
    """AWS Backup reads the file system as the job's role: a role that cannot fails the job, with AWS's
    message."""
    role = job.get("IamRoleArn")
    if not iam.governs(role):
        return None
    if not iam.trusts(role, "backup.amazonaws.com"):
        return f"IAM Role {role} cannot be assumed by AWS Backup"
    try:
        iam.authorize(
            role, "elasticfilesystem:Backup", job["ResourceArn"], iam.resource_tags(iam.efs_tags(job["ResourceArn"]))
        )
    except iam.Denied as denied:
        return denied.message
    return None


def _advance(backend, job: dict) -> None:
    elapsed = time.time() - job["started"]
    if job["State"] in ("COMPLETED", "FAILED", "ABORTED", "EXPIRED") or elapsed < JOB_SECONDS / 2:
        return
    if elapsed < JOB_SECONDS:
        job["State"] = "RUNNING"
        job["PercentDone"] = "50.0"
        return
    outcome = job.pop("outcome")
    denied = _denied_to_the_role(job)
    if denied:
        outcome = {"state": "FAILED", "message": denied}
    job["State"] = outcome["state"]
    job["CompletionDate"] = unix_time()
    if outcome["state"] == "COMPLETED":
        job["PercentDone"] = "100.0"
        job["RecoveryPointArn"] = (
            f"arn:aws:backup:{backend.region_name}:{backend.account_id}:recovery-point:{uuid.uuid4()}"
        )
        vault = backend.vaults.get(job["BackupVaultName"])
        if vault is not None:
            vault.num_of_recovery_points += 1
        _state(backend).setdefault("recovery_points", []).append(job)
    else:
        job["StatusMessage"] = outcome.get("message", f"The backup job {outcome['state'].lower()} (emulator).")


def start_backup_job(self):
    params = json.loads(self.body or "{}")
    backend = self.backup_backend
    state = _state(backend)
    vault_name = params.get("BackupVaultName")
    if vault_name not in backend.vaults:
        raise ResourceNotFoundException(f"Backup vault {vault_name} does not exist")
    token = params.get("IdempotencyToken")
    if token and token in state["tokens"]:
        job = state["tokens"][token]
    else:
        resource = params["ResourceArn"]
        scripted = next_outcomes(backend).get(resource) or []
        job = {
            "BackupJobId": str(uuid.uuid4()).upper(),
            "BackupVaultName": vault_name,
            "BackupVaultArn": backend.vaults[vault_name].backup_vault_arn,
            "ResourceArn": resource,
            "ResourceType": "EFS",
            "IamRoleArn": params.get("IamRoleArn"),
            "CreationDate": unix_time(),
            "State": "CREATED",
            "RecoveryPointTags": params.get("RecoveryPointTags") or {},
            "Lifecycle": params.get("Lifecycle"),
            "started": time.time(),
            "outcome": scripted.pop(0) if scripted else {"state": "COMPLETED"},
        }
        state["jobs"][job["BackupJobId"]] = job
        if token:
            state["tokens"][token] = job
    body = {"BackupJobId": job["BackupJobId"], "CreationDate": job["CreationDate"]}
    return 200, {}, json.dumps(body)


def _public(job: dict) -> dict:
    return {k: v for k, v in job.items() if k not in ("started", "outcome") and v is not None}


def describe_backup_job(self):
    job_id = self.path.rstrip("/").split("/")[-1]
    job = _state(self.backup_backend)["jobs"].get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Backup job {job_id} does not exist")
    _advance(self.backup_backend, job)
    return 200, {}, json.dumps(_public(job))


def list_recovery_points_by_backup_vault(self):
    vault_name = self.path.rstrip("/").split("/")[-2]
    backend = self.backup_backend
    if vault_name not in backend.vaults:
        raise ResourceNotFoundException(f"Backup vault {vault_name} does not exist")
    for job in _state(backend)["jobs"].values():
        _advance(backend, job)
    points = [
        {
            "RecoveryPointArn": j["RecoveryPointArn"],
            "BackupVaultName": vault_name,
            "ResourceArn": j["ResourceArn"],
            "ResourceType": "EFS",
            "CreationDate": j["CreationDate"],
            "Status": "COMPLETED",
        }
        for j in _state(backend).get("recovery_points", [])
        if j["BackupVaultName"] == vault_name
    ]
    return 200, {}, json.dumps({"RecoveryPoints": points})


def start_restore_job(self):
    """A restore of an EFS recovery point, run as the role it is given: into the file system it came from
    (elasticfilesystem:Restore on it) or, with newFileSystem=true, into a new one (CreateFilesystem too).
    It completes at once; a role that may not fails it with AWS's message."""
    params = json.loads(self.body or "{}")
    backend = self.backup_backend
    points = {j["RecoveryPointArn"]: j for j in _state(backend).get("recovery_points", [])}
    point = points.get(params.get("RecoveryPointArn"))
    if point is None:
        raise ResourceNotFoundException(f"Recovery point {params.get('RecoveryPointArn')} does not exist")
    metadata = params.get("Metadata") or {}
    role = params.get("IamRoleArn")
    job = {
        "RestoreJobId": str(uuid.uuid4()).upper(),
        "RecoveryPointArn": point["RecoveryPointArn"],
        "IamRoleArn": role,
        "CreationDate": unix_time(),
        "ResourceType": "EFS",
        "Status": "COMPLETED",
        "CompletionDate": unix_time(),
        "CreatedResourceArn": point["ResourceArn"],
    }
    if iam.governs(role):
        try:
            if not iam.trusts(role, "backup.amazonaws.com"):
                raise iam.Denied(f"IAM Role {role} cannot be assumed by AWS Backup")
            iam.authorize(role, "elasticfilesystem:Restore", point["ResourceArn"])
            if str(metadata.get("newFileSystem", "false")).lower() == "true":
                iam.authorize(role, "elasticfilesystem:CreateFilesystem", "*")
        except iam.Denied as denied:
            job.update(Status="FAILED", StatusMessage=denied.message, CreatedResourceArn=None)
    _state(backend).setdefault("restores", {})[job["RestoreJobId"]] = job
    return 200, {}, json.dumps({"RestoreJobId": job["RestoreJobId"]})


def describe_restore_job(self):
    job_id = self.path.rstrip("/").split("/")[-1]
    job = _state(self.backup_backend).get("restores", {}).get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Restore job {job_id} does not exist")
    return 200, {}, json.dumps({k: v for k, v in job.items() if v is not None})


def install() -> None:
    responses.BackupResponse.start_restore_job = start_restore_job
    responses.BackupResponse.describe_restore_job = describe_restore_job
    responses.BackupResponse.start_backup_job = start_backup_job
    responses.BackupResponse.describe_backup_job = describe_backup_job
    responses.BackupResponse.list_recovery_points_by_backup_vault = list_recovery_points_by_backup_vault
    dispatch = urls.response.dispatch
    urls.url_paths.update(
        {
            "{0}/backup-jobs$": dispatch,
            "{0}/backup-jobs/(?P<job>[^/]+)$": dispatch,
            "{0}/backup-vaults/(?P<vault>[^/]+)/recovery-points/$": dispatch,
            "{0}/restore-jobs$": dispatch,
            "{0}/restore-jobs/(?P<job>[^/]+)$": dispatch,
        }
    )
