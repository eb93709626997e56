"""AWS Backup jobs and recovery points, on moto's Backup models: moto 5.2 has vaults but no StartBackupJob,
DescribeBackupJob or recovery points. Here a job goes CREATED -> RUNNING -> COMPLETED over
SNAPMGMT_EMULATOR_BACKUP_JOB_SECONDS (or ends as a test scripted: FAILED, ABORTED, EXPIRED, with a
message), and a completed job leaves a recovery point in its vault, tagged with the job's
RecoveryPointTags (ListTags reads them). The same IdempotencyToken returns the same job. Recovery points
are listed per vault (by resource, paginated as AWS does: at most 1000 a page), described and deleted; as
on AWS, a locked vault refuses deletes, and one being restored is in an invalid state to delete. Restore
jobs (StartRestoreJob, DescribeRestoreJob) run as their role: into the source at once, or into a new file
system over the same time as a backup job. Copy jobs (StartCopyJob,
DescribeCopyJob) copy a completed point into a vault of another Region (or this one) with its tags, as their
role (backup:CopyIntoBackupVault on the destination vault), over the same time as a backup job; the source
cannot be deleted while it is copied."""

import json
import os
import time
import uuid
from urllib.parse import unquote

from moto.backup import responses, urls
from moto.backup.exceptions import ResourceNotFoundException
from moto.core.exceptions import JsonRESTError
from moto.core.utils import unix_time

from . import iam

JOB_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_BACKUP_JOB_SECONDS", "2"))


def _state(backend) -> dict:
    if not hasattr(backend, "snapmgmt_jobs"):
        backend.snapmgmt_jobs = {"jobs": {}, "tokens": {}, "next_outcomes": {}}
    return backend.snapmgmt_jobs


def points(backend) -> dict:
    """recovery point ARN -> the point, as DescribeRecoveryPoint answers (plus "inUse": a restore running)."""
    return _state(backend).setdefault("points", {})


def add_recovery_point(
    backend, vault: str, resource_arn: str, tags: dict, created: float, status: str = "COMPLETED", **extra
) -> dict:
    """A recovery point in `vault`, as a completed job leaves it (also how tests seed history)."""
    arn = f"arn:aws:backup:{backend.region_name}:{backend.account_id}:recovery-point:{uuid.uuid4()}"
    point = {
        "RecoveryPointArn": arn,
        "BackupVaultName": vault,
        "BackupVaultArn": backend.vaults[vault].backup_vault_arn,
        "ResourceArn": resource_arn,
        "ResourceType": "EFS",
        "CreationDate": created,
        "CompletionDate": created,
        "Status": status,
        "IsEncrypted": True,
        **extra,
    }
    points(backend)[arn] = point
    backend.vaults[vault].num_of_recovery_points += 1
    if tags:
        backend.tag_resource(arn, tags)
    return point


class InvalidResourceStateException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidResourceStateException", message)


class InvalidRequestException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidRequestException", message)


class InvalidParameterValueException(JsonRESTError):
    code = 400

    def __init__(self, message: str):
        super().__init__("InvalidParameterValueException", message)


def next_outcomes(backend) -> dict:
    """resource ARN -> outcomes of its next jobs, e.g. {"state": "FAILED", "message": "..."}."""
    return _state(backend)["next_outcomes"]


def _denied_as_the_role(role, action: str, resource: str, context: dict | None = None) -> str | None:
    """AWS Backup acts as the job's role: AWS's message when the role cannot be assumed or may not act."""
    if not iam.governs(role):
        return None
    if not iam.trusts(role, "backup.amazonaws.com"):
        return f"IAM Role {role} cannot be assumed by AWS Backup"
    try:
        iam.authorize(role, action, resource, context)
    except iam.Denied as denied:
        return denied.message
    return None


def _denied_to_the_role(job: dict) -> str | None:
    """AWS Backup reads the file system as the job's role: a role that cannot fails the job."""
    resource = job["ResourceArn"]
    context = iam.resource_tags(iam.efs_tags(resource))
    return _denied_as_the_role(job.get("IamRoleArn"), "elasticfilesystem:Backup", resource, context)


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
        if job["BackupVaultName"] in backend.vaults:
            lifecycle = job.get("Lifecycle")
            point = add_recovery_point(
                backend,
                job["BackupVaultName"],
                job["ResourceArn"],
                job["RecoveryPointTags"],
                job["CreationDate"],
                IamRoleArn=job.get("IamRoleArn"),
                **({"Lifecycle": lifecycle} if lifecycle else {}),
            )
            job["RecoveryPointArn"] = point["RecoveryPointArn"]
    else:
        job["StatusMessage"] = outcome.get("message", f"The backup job {outcome['state'].lower()} (emulator).")


def start_backup_job(self):
    params = json.loads(self.body or "{}")
    backend = self.backup_backend
    state = _state(backend)
    vault_name = params.get("BackupVaultName")
    if vault_name not in backend.vaults:
        raise ResourceNotFoundException(f"Backup vault {vault_name} does not exist")
    _check_vault_lock(backend.vaults[vault_name], params.get("Lifecycle"))
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


def _copies(backend) -> dict:
    return _state(backend).setdefault("copies", {})


def start_copy_job(self):
    params = json.loads(self.body or "{}")
    backend = self.backup_backend
    token = params.get("IdempotencyToken")
    tokens = _state(backend).setdefault("copy_tokens", {})
    if token and token in tokens:
        job = tokens[token]
        return 200, {}, json.dumps({"CopyJobId": job["CopyJobId"], "CreationDate": job["CreationDate"]})
    source = points(backend).get(params.get("RecoveryPointArn"))
    if source is None or source["BackupVaultName"] != params.get("SourceBackupVaultName"):
        raise ResourceNotFoundException(
            f"Recovery point {params.get('RecoveryPointArn')} not found in vault {params.get('SourceBackupVaultName')}"
        )
    if source["Status"] != "COMPLETED":
        raise InvalidRequestException(f"Recovery point {source['RecoveryPointArn']} is {source['Status']}")
    destination = params.get("DestinationBackupVaultArn", "")
    job = {
        "CopyJobId": str(uuid.uuid4()).upper(),
        "SourceBackupVaultArn": source["BackupVaultArn"],
        "SourceRecoveryPointArn": source["RecoveryPointArn"],
        "DestinationBackupVaultArn": destination,
        "ResourceArn": source["ResourceArn"],
        "ResourceType": source["ResourceType"],
        "IamRoleArn": params.get("IamRoleArn"),
        "CreationDate": unix_time(),
        "State": "CREATED",
        "Lifecycle": params.get("Lifecycle"),
        "started": time.time(),
    }
    source["copyingUntil"] = time.time() + JOB_SECONDS
    _copies(backend)[job["CopyJobId"]] = job
    if token:
        tokens[token] = job
    return 200, {}, json.dumps({"CopyJobId": job["CopyJobId"], "CreationDate": job["CreationDate"]})


def _finish_copy(backend, job: dict) -> None:
    """The copy lands in the destination vault, or the job fails with AWS's reason."""
    from moto.backup.models import backup_backends

    arn = job["DestinationBackupVaultArn"]
    parts = arn.split(":")
    region, name = (parts[3], parts[-1]) if len(parts) >= 7 else (None, None)
    target = backup_backends[backend.account_id][region] if region else None
    job["CompletionDate"] = unix_time()
    try:
        if target is None or name not in target.vaults:
            raise iam.Denied(f"Backup vault {arn} does not exist")
        _check_vault_lock(target.vaults[name], job.get("Lifecycle"))
    except (iam.Denied, InvalidParameterValueException) as failure:
        job.update(State="FAILED", StatusMessage=getattr(failure, "message", str(failure)))
        return
    denied = _denied_as_the_role(job.get("IamRoleArn"), "backup:CopyIntoBackupVault", arn)
    if denied:
        job.update(State="FAILED", StatusMessage=denied)
        return
    source = points(backend).get(job["SourceRecoveryPointArn"]) or {}
    lifecycle = job.get("Lifecycle")
    point = add_recovery_point(
        target,
        name,
        job["ResourceArn"],
        backend.list_tags(job["SourceRecoveryPointArn"]),
        source.get("CreationDate", job["CreationDate"]),
        SourceBackupVaultArn=job["SourceBackupVaultArn"],
        **({"Lifecycle": lifecycle} if lifecycle else {}),
    )
    job.update(State="COMPLETED", DestinationRecoveryPointArn=point["RecoveryPointArn"])


def describe_copy_job(self):
    job_id = self.path.rstrip("/").split("/")[-1]
    job = _copies(self.backup_backend).get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Copy job {job_id} does not exist")
    elapsed = time.time() - job["started"]
    if job["State"] in ("CREATED", "RUNNING") and elapsed >= JOB_SECONDS / 2:
        job["State"] = "RUNNING"
        if elapsed >= JOB_SECONDS:
            _finish_copy(self.backup_backend, job)
    return 200, {}, json.dumps({"CopyJob": _public(job)})


def _check_vault_lock(vault, lifecycle: dict | None) -> None:
    """A locked vault takes only jobs whose lifecycle keeps the point within its retention bounds."""
    if not getattr(vault, "locked", False):
        return
    days = (lifecycle or {}).get("DeleteAfterDays")
    if vault.min_retention_days and (days is None or days < vault.min_retention_days):
        raise InvalidParameterValueException(
            f"The lifecycle (DeleteAfterDays {days}) is shorter than the vault lock's minimum retention"
            f" of {vault.min_retention_days} days"
        )
    if vault.max_retention_days and (days is None or days > vault.max_retention_days):
        raise InvalidParameterValueException(
            f"The lifecycle (DeleteAfterDays {days}) is longer than the vault lock's maximum retention"
            f" of {vault.max_retention_days} days"
        )


def _vault_of(self) -> str:
    """The vault named in the path: /backup-vaults/{name}/..."""
    parts = self.path.split("?")[0].split("/")
    return unquote(parts[parts.index("backup-vaults") + 1])


def _point_of(self) -> dict:
    backend = self.backup_backend
    vault = _vault_of(self)
    arn = unquote(self.path.split("?")[0].rstrip("/").split("/")[-1])
    point = points(backend).get(arn)
    if vault not in backend.vaults or point is None or point["BackupVaultName"] != vault:
        raise ResourceNotFoundException(f"Recovery point {arn} not found in vault {vault}")
    return point


def _listed(point: dict) -> dict:
    return {k: v for k, v in point.items() if k not in ("inUse", "copyingUntil") and v is not None}


PAGE_LIMIT = 1000


def list_recovery_points_by_backup_vault(self):
    backend = self.backup_backend
    vault_name = _vault_of(self)
    if vault_name not in backend.vaults:
        raise ResourceNotFoundException(f"Backup vault {vault_name} does not exist")
    for job in _state(backend)["jobs"].values():
        _advance(backend, job)
    query = self.querystring
    first = lambda name: (query.get(name) or [None])[0]  # noqa: E731
    max_results = int(first("maxResults") or PAGE_LIMIT)
    if not 1 <= max_results <= PAGE_LIMIT:
        raise InvalidParameterValueException(f"maxResults must be between 1 and {PAGE_LIMIT}")
    by_resource, by_type = first("resourceArn"), first("resourceType")
    matching = [
        _listed(p)
        for p in points(backend).values()
        if p["BackupVaultName"] == vault_name
        and (by_resource is None or p["ResourceArn"] == by_resource)
        and (by_type is None or p["ResourceType"] == by_type)
    ]
    matching.sort(key=lambda p: p["RecoveryPointArn"])
    start = int(first("nextToken") or 0)
    page = matching[start : start + max_results]
    body = {"RecoveryPoints": page}
    if start + max_results < len(matching):
        body["NextToken"] = str(start + max_results)
    return 200, {}, json.dumps(body)


def describe_recovery_point(self):
    return 200, {}, json.dumps(_listed(_point_of(self)))


def delete_recovery_point(self):
    backend = self.backup_backend
    point = _point_of(self)
    vault = backend.vaults[point["BackupVaultName"]]
    if getattr(vault, "locked", False):
        raise InvalidRequestException(
            f"Recovery point {point['RecoveryPointArn']} is in a vault protected by Vault Lock and cannot be deleted"
        )
    if point.get("inUse") or time.time() < point.get("copyingUntil", 0):
        raise InvalidResourceStateException(
            f"AWS Backup is already performing an action on recovery point {point['RecoveryPointArn']}"
        )
    del points(backend)[point["RecoveryPointArn"]]
    backend.tagger.delete_all_tags_for_resource(point["RecoveryPointArn"])
    vault.num_of_recovery_points -= 1
    return 200, {}, ""


def list_tags(self):
    """moto reads the ARN as the path's second-to-last part, which holds only with a trailing slash: the
    AWS SDK for Rust sends /tags/{arn} without one."""
    arn = unquote(self.path.split("?")[0].split("/tags/", 1)[1].rstrip("/"))
    return 200, {}, json.dumps({"Tags": self.backup_backend.list_tags(arn)})


def next_restores(backend) -> dict:
    """recovery point ARN -> outcomes of its next restore jobs, e.g. {"status": "FAILED", "message": "..."}."""
    return _state(backend).setdefault("next_restores", {})


def _efs():
    from moto.efs.models import efs_backends

    return efs_backends[iam.ACCOUNT][iam.region()]


def start_restore_job(self):
    """A restore of an EFS recovery point, run as the role it is given: into the file system it came from
    (elasticfilesystem:Restore on it), which completes at once; or, with newFileSystem=true, into a new one
    (CreateFilesystem too), made at the start with the metadata's CreationToken, encryption and performance
    mode and untagged (AWS Backup's restore cannot tag it), the job RUNNING over SNAPMGMT_EMULATOR_BACKUP_JOB_SECONDS
    and then COMPLETED, naming the file system as its CreatedResourceArn. A test may script the next restores
    of a point to fail (next-restores): the job FAILED with its message, and the file system it made left
    behind and named (AWS does not say what a failed restore leaves: the case that must be cleaned up). The
    same IdempotencyToken returns the same job."""
    params = json.loads(self.body or "{}")
    backend = self.backup_backend
    state = _state(backend)
    token = params.get("IdempotencyToken")
    if token and token in state.setdefault("restore_tokens", {}):
        return 200, {}, json.dumps({"RestoreJobId": state["restore_tokens"][token]["RestoreJobId"]})
    point = points(backend).get(params.get("RecoveryPointArn"))
    if point is None:
        raise ResourceNotFoundException(f"Recovery point {params.get('RecoveryPointArn')} does not exist")
    metadata = params.get("Metadata") or {}
    role = params.get("IamRoleArn")
    new = str(metadata.get("newFileSystem", "false")).lower() == "true"
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
            # Into the source it came from; a new file system is authorized once it has its ARN.
            iam.authorize(
                role,
                "elasticfilesystem:CreateFilesystem" if new else "elasticfilesystem:Restore",
                "*" if new else point["ResourceArn"],
            )
        except iam.Denied as denied:
            job.update(Status="FAILED", StatusMessage=denied.message, CreatedResourceArn=None)
    made = _new_file_system(role, job, metadata) if new and job["Status"] != "FAILED" else None
    if made is not None:
        scripted = next_restores(backend).get(point["RecoveryPointArn"]) or []
        job.update(
            Status="RUNNING",
            CompletionDate=None,
            CreatedResourceArn=None,
            made=made.file_system_arn,
            started=time.time(),
            outcome=scripted.pop(0) if scripted else {"status": "COMPLETED"},
        )
    state.setdefault("restores", {})[job["RestoreJobId"]] = job
    if token:
        state["restore_tokens"][token] = job
    return 200, {}, json.dumps({"RestoreJobId": job["RestoreJobId"]})


def _new_file_system(role: str, job: dict, metadata: dict):
    """The new file system a restore fills, made at its start. AWS Backup restores into it as the role, in the
    Region the job runs in (a copy's: the copy Region): when the role may not, the job FAILED and none made."""
    made = _efs().create_file_system(
        creation_token=metadata.get("CreationToken") or job["RestoreJobId"],
        performance_mode=metadata.get("PerformanceMode", "generalPurpose"),
        encrypted=str(metadata.get("Encrypted", "false")).lower() == "true",
        kms_key_id=metadata.get("KmsKeyId"),
        throughput_mode="bursting",
        provisioned_throughput_in_mibps=None,
        availability_zone_name=None,
        backup=False,
        tags=[],
    )
    if iam.governs(role):
        try:
            iam.authorize(role, "elasticfilesystem:Restore", made.file_system_arn)
        except iam.Denied as denied:
            _efs().delete_file_system(made.file_system_id)
            job.update(Status="FAILED", StatusMessage=denied.message, CreatedResourceArn=None)
            return None
    return made


def _advance_restore(job: dict) -> None:
    if job["Status"] != "RUNNING" or time.time() - job["started"] < JOB_SECONDS:
        return
    outcome = job["outcome"]
    job.update(Status=outcome["status"], CompletionDate=unix_time(), CreatedResourceArn=job["made"])
    if outcome["status"] != "COMPLETED":
        job["StatusMessage"] = outcome.get("message", f"The restore job {outcome['status'].lower()} (emulator).")


def describe_restore_job(self):
    job_id = self.path.rstrip("/").split("/")[-1]
    job = _state(self.backup_backend).get("restores", {}).get(job_id)
    if job is None:
        raise ResourceNotFoundException(f"Restore job {job_id} does not exist")
    _advance_restore(job)
    hidden = ("made", "started", "outcome")
    return 200, {}, json.dumps({k: v for k, v in job.items() if v is not None and k not in hidden})


def install() -> None:
    responses.BackupResponse.start_copy_job = start_copy_job
    responses.BackupResponse.describe_copy_job = describe_copy_job
    responses.BackupResponse.start_restore_job = start_restore_job
    responses.BackupResponse.describe_restore_job = describe_restore_job
    responses.BackupResponse.start_backup_job = start_backup_job
    responses.BackupResponse.describe_backup_job = describe_backup_job
    responses.BackupResponse.list_recovery_points_by_backup_vault = list_recovery_points_by_backup_vault
    responses.BackupResponse.describe_recovery_point = describe_recovery_point
    responses.BackupResponse.list_tags = list_tags
    responses.BackupResponse.delete_recovery_point = delete_recovery_point
    dispatch = urls.response.dispatch
    urls.url_paths.update(
        {
            "{0}/backup-jobs$": dispatch,
            "{0}/backup-jobs/(?P<job>[^/]+)$": dispatch,
            "{0}/backup-vaults/(?P<vault>[^/]+)/recovery-points/$": dispatch,
            "{0}/backup-vaults/(?P<vault>[^/]+)/recovery-points/(?P<point>[^/]+)$": dispatch,
            "{0}/copy-jobs$": dispatch,
            "{0}/copy-jobs/(?P<job>[^/]+)$": dispatch,
            "{0}/restore-jobs$": dispatch,
            "{0}/restore-jobs/(?P<job>[^/]+)$": dispatch,
        }
    )
