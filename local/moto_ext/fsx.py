"""FSx as the real service behaves, on moto's FSx models.

moto 5.2 leaves out: a file system's Lifecycle and OwnerId; a backup's Type, OwnerId and FileSystem;
backups leaving CREATING; ClientRequestToken idempotency; the one-backup-at-a-time rule
(BackupInProgress); BackupNotFound / FileSystemNotFound for unknown ids; ONTAP storage virtual machines
and volumes, and backups taken per volume; CopyBackup between Regions (at most five copies in progress to a
destination Region, a source being copied cannot be deleted); restores (CreateFileSystemFromBackup,
CreateVolumeFromBackup: CREATING for SNAPMGMT_EMULATOR_FSX_RESTORE_SECONDS, then AVAILABLE / CREATED, or FAILED
as a test scripts it; tagged at creation); deletes that take a final backup unless told to skip it, and refuse
what is still being made (DeleteFileSystem, DeleteVolume). This module adds them.
"""

import json
import os
import time
import uuid

from moto.core.exceptions import JsonRESTError
from moto.fsx import models
from moto.fsx.exceptions import FileSystemNotFound

# How long a new backup stays CREATING before it reaches its outcome (AVAILABLE unless a test set FAILED).
BACKUP_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_FSX_BACKUP_SECONDS", "1"))
# How long a file system or volume made from a backup stays CREATING.
RESTORE_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_FSX_RESTORE_SECONDS", "2"))
IN_PROGRESS = ("CREATING", "PENDING", "TRANSFERRING", "COPYING")
# FSx: "You can have up to five backup copy requests in progress to a single destination Region per account."
COPIES_IN_FLIGHT = 5


class BackupInProgress(JsonRESTError):
    def __init__(self, file_system_id: str):
        super().__init__("BackupInProgress", f"Another backup of file system {file_system_id} is already in progress.")


class BackupNotFound(JsonRESTError):
    def __init__(self, backup_id: str):
        super().__init__("BackupNotFound", f"Backup '{backup_id}' does not exist.")


class BadRequest(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("BadRequest", message)


class VolumeNotFound(JsonRESTError):
    def __init__(self, volume_id: str):
        super().__init__("VolumeNotFound", f"Volume '{volume_id}' does not exist.")


class StorageVirtualMachineNotFound(JsonRESTError):
    def __init__(self, svm_id: str):
        super().__init__("StorageVirtualMachineNotFound", f"Storage virtual machine '{svm_id}' does not exist.")


def _long_id(prefix: str) -> str:
    """FSx's long ids: a prefix and 17 hex digits."""
    return f"{prefix}-{uuid.uuid4().hex[:17]}"


class Volume:
    """An ONTAP volume: what DescribeVolumes answers and CreateBackup needs. FSx backs up read-write
    volumes only, one backup at a time, and never an SVM's root."""

    def __init__(self, backend, fs, svm_id: str, name: str, ontap: dict, tags, root: bool = False):
        self.volume_id = _long_id("fsvol")
        self.file_system_id = fs.file_system_id
        self.name = name
        self.lifecycle = "CREATED"
        self.creation_time = time.time()
        self.resource_arn = (
            f"arn:aws:fsx:{backend.region_name}:{backend.account_id}:volume/{fs.file_system_id}/{self.volume_id}"
        )
        self.ontap = {
            "StorageVirtualMachineId": svm_id,
            "OntapVolumeType": ontap.get("OntapVolumeType", "DP" if ontap.get("Type") == "DP" else "RW"),
            "StorageVirtualMachineRoot": root,
            "SizeInMegabytes": ontap.get("SizeInMegabytes", ontap.get("SizeInBytes", 1 << 30) // (1 << 20)),
            "JunctionPath": ontap.get("JunctionPath", f"/{name}"),
            "FlexCacheEndpointType": "NONE",
        }
        self.backend = backend
        if tags:
            backend.tagger.tag_resource(self.resource_arn, tags)

    def to_dict(self) -> dict:
        _advance(self, "CREATED")
        return {
            "VolumeId": self.volume_id,
            "FileSystemId": self.file_system_id,
            "Name": self.name,
            "Lifecycle": self.lifecycle,
            "CreationTime": self.creation_time,
            "VolumeType": "ONTAP",
            "ResourceARN": self.resource_arn,
            "OntapConfiguration": self.ontap,
            "Tags": self.backend.list_tags_for_resource(self.resource_arn),
        }


def volumes(backend) -> dict:
    if not hasattr(backend, "snapmgmt_volumes"):
        backend.snapmgmt_volumes = {}
        backend.snapmgmt_svms = {}
    return backend.snapmgmt_volumes


def svms(backend) -> dict:
    volumes(backend)
    return backend.snapmgmt_svms


def create_storage_virtual_machine(backend, file_system_id: str, name: str, tags, svm_id: str = None) -> dict:
    """An SVM of an ONTAP file system; `svm_id` only through the control route (an operator's existing one)."""
    fs = backend.file_systems.get(file_system_id)
    if fs is None:
        raise FileSystemNotFound(file_system_id)
    if fs.file_system_type != "ONTAP":
        raise BadRequest("Storage virtual machines are an FSx for ONTAP feature.")
    svm_id = svm_id or _long_id("svm")
    svms(backend)[svm_id] = {"StorageVirtualMachineId": svm_id, "FileSystemId": file_system_id, "Name": name}
    # Like FSx, an SVM comes with its root volume.
    root = Volume(backend, fs, svm_id, f"{name}_root", {}, None, root=True)
    volumes(backend)[root.volume_id] = root
    return {**svms(backend)[svm_id], "Lifecycle": "CREATED", "Tags": tags or []}


def create_volume(backend, volume_type: str, name: str, ontap: dict | None, tags) -> Volume:
    if volume_type != "ONTAP" or not ontap:
        raise BadRequest("The emulator creates ONTAP volumes only: give VolumeType ONTAP and OntapConfiguration.")
    svm = svms(backend).get(ontap.get("StorageVirtualMachineId", ""))
    if svm is None:
        raise StorageVirtualMachineNotFound(ontap.get("StorageVirtualMachineId", ""))
    fs = backend.file_systems[svm["FileSystemId"]]
    volume = Volume(backend, fs, svm["StorageVirtualMachineId"], name, ontap, tags)
    volumes(backend)[volume.volume_id] = volume
    return volume


def describe_volumes(backend, volume_ids, filters, max_results, next_token) -> tuple[list, str | None]:
    all_volumes = volumes(backend)
    for volume_id in volume_ids or []:
        if volume_id not in all_volumes:
            raise VolumeNotFound(volume_id)
    found = [all_volumes[v] for v in volume_ids] if volume_ids else list(all_volumes.values())
    for f in filters or []:
        if f["Name"] == "file-system-id":
            found = [v for v in found if v.file_system_id in f["Values"]]
        elif f["Name"] == "storage-virtual-machine-id":
            found = [v for v in found if v.ontap["StorageVirtualMachineId"] in f["Values"]]
        else:
            raise BadRequest(f"Unknown volume filter {f['Name']}.")
    start = int(next_token) if next_token else 0
    size = int(max_results) if max_results else len(found) or 1
    if size < 1:
        raise BadRequest("MaxResults must be at least 1.")
    page = found[start : start + size]
    return page, (str(start + size) if start + size < len(found) else None)


def _response_create_storage_virtual_machine(self):
    p = json.loads(self.body)
    svm = create_storage_virtual_machine(self.fsx_backend, p.get("FileSystemId"), p.get("Name"), p.get("Tags"))
    return json.dumps({"StorageVirtualMachine": svm})


def _response_create_volume(self):
    p = json.loads(self.body)
    volume = create_volume(
        self.fsx_backend, p.get("VolumeType"), p.get("Name"), p.get("OntapConfiguration"), p.get("Tags")
    )
    return json.dumps({"Volume": volume.to_dict()})


def _response_describe_volumes(self):
    p = json.loads(self.body)
    page, token = describe_volumes(
        self.fsx_backend, p.get("VolumeIds"), p.get("Filters"), p.get("MaxResults"), p.get("NextToken")
    )
    out = {"Volumes": [v.to_dict() for v in page]}
    if token:
        out["NextToken"] = token
    return json.dumps(out)


def _backup_lifecycle(self):
    """CREATING (a copy: COPYING) until its time is up, then its outcome."""
    if self._lifecycle in ("CREATING", "COPYING") and time.time() >= getattr(self, "ready_at", 0):
        self._lifecycle = getattr(self, "outcome", "AVAILABLE")
    return self._lifecycle


def _set_backup_lifecycle(self, value):
    self._lifecycle = value


_original_backup_to_dict = models.Backup.to_dict


def _backup_to_dict(self):
    d = _original_backup_to_dict(self)
    d["Lifecycle"] = self.lifecycle
    d["Type"] = self.backup_type
    d["OwnerId"] = self.owner_id
    d["ResourceType"] = "VOLUME" if self.volume_id else "FILE_SYSTEM"
    d["FileSystem"] = self.file_system_info
    if self.volume_id:
        d["Volume"] = getattr(self, "volume_info", {"VolumeId": self.volume_id})
    if getattr(self, "source_backup_id", None):
        d["SourceBackupId"], d["SourceBackupRegion"] = self.source_backup_id, self.source_backup_region
    if getattr(self, "kms_key_id", None):
        d["KmsKeyId"] = self.kms_key_id
    if self.lifecycle == "FAILED":
        d["FailureDetails"] = {"Message": getattr(self, "failure_message", "The backup failed (emulator).")}
    return d


_original_fs_init = models.FileSystem.__init__
_original_fs_to_dict = models.FileSystem.to_dict


def _fs_init(self, *args, **kwargs):
    _original_fs_init(self, *args, **kwargs)
    self.lifecycle = "AVAILABLE"
    self.owner_id = kwargs.get("account_id") or (args[0] if args else None)
    self.creation_time = time.time()


def _advance(made, ready: str) -> None:
    """A file system or volume made from a backup: CREATING until its time is up, then ready or FAILED. (One a
    test set CREATING through the control route stays so.)"""
    if made.lifecycle == "CREATING" and hasattr(made, "ready_at") and time.time() >= made.ready_at:
        outcome = getattr(made, "outcome", {})
        made.lifecycle = outcome.get("lifecycle", ready)
        made.failure_message = outcome.get("message", "The restore failed (emulator).")


def _fs_to_dict(self):
    _advance(self, "AVAILABLE")
    d = _original_fs_to_dict(self)
    d["Lifecycle"] = self.lifecycle
    d["OwnerId"] = self.owner_id
    d["CreationTime"] = self.creation_time
    if self.lifecycle == "FAILED":
        d["FailureDetails"] = {"Message": self.failure_message}
    return d


_original_create_backup = models.FSxBackend.create_backup


def _create_backup(self, file_system_id, client_request_token, volume_id, tags):
    volume = None
    if volume_id:
        # ONTAP backs up per volume: VolumeId alone names what to back up.
        if file_system_id:
            raise BadRequest("Specify a FileSystemId or a VolumeId, not both.")
        volume = volumes(self).get(volume_id)
        if volume is None:
            raise VolumeNotFound(volume_id)
        if volume.ontap["OntapVolumeType"] != "RW" or volume.ontap["StorageVirtualMachineRoot"]:
            raise BadRequest(f"Volume {volume_id} cannot be backed up: FSx backs up read-write volumes only.")
        file_system_id = volume.file_system_id
    fs = self.file_systems.get(file_system_id)
    if fs is None:
        raise FileSystemNotFound(file_system_id)
    if fs.file_system_type == "ONTAP" and volume is None:
        raise BadRequest("FSx for ONTAP backs up volumes: give a VolumeId, not the file system.")
    source = volume_id or file_system_id
    if client_request_token:
        for existing in self.backups.values():
            if (
                existing.client_request_token == client_request_token
                and (existing.volume_id or existing.file_system_id) == source
            ):
                return existing
    if any((b.volume_id or b.file_system_id) == source and b.lifecycle in IN_PROGRESS for b in self.backups.values()):
        raise BackupInProgress(source)
    backup = _original_create_backup(self, file_system_id, client_request_token, volume_id, tags)
    backup.owner_id = self.account_id
    backup.backup_type = "USER_INITIATED"
    backup.file_system_type = fs.file_system_type
    backup.file_system_info = {
        "FileSystemId": fs.file_system_id,
        "FileSystemType": fs.file_system_type,
        "OwnerId": fs.owner_id,
        "ResourceARN": fs.resource_arn,
        "Lifecycle": fs.lifecycle,
    }
    if volume is not None:
        backup.volume_info = {k: v for k, v in volume.to_dict().items() if k != "Tags"}
    scripted = next_outcomes(self).get(source)
    outcome = scripted.pop(0) if scripted else {}
    backup.outcome = outcome.get("lifecycle", "AVAILABLE")
    backup.ready_at = time.time() + float(outcome.get("seconds", BACKUP_SECONDS))
    return backup


_original_describe_file_systems = models.FSxBackend.describe_file_systems


def _describe_file_systems(self, file_system_ids, **kwargs):
    for fs_id in file_system_ids or []:
        if fs_id not in self.file_systems:
            raise FileSystemNotFound(fs_id)
    return _original_describe_file_systems(self, file_system_ids=file_system_ids, **kwargs)


_original_describe_backups = models.FSxBackend.describe_backups


def _describe_backups(self, backup_ids, filters=None, **kwargs):
    for backup_id in backup_ids or []:
        if backup_id not in self.backups:
            raise BackupNotFound(backup_id)
    return _original_describe_backups(self, backup_ids=backup_ids, filters=filters, **kwargs)


def _delete_backup(self, backup_id, client_request_token):
    backup = self.backups.get(backup_id)
    if backup is None:
        raise BackupNotFound(backup_id)
    if backup.backup_type == "AWS_BACKUP":
        raise BadRequest("Backups created by AWS Backup can only be deleted through AWS Backup.")
    if backup.lifecycle in IN_PROGRESS:
        raise BackupInProgress(backup.file_system_id)
    if time.time() < getattr(backup, "copying_until", 0):
        raise JsonRESTError("BackupBeingCopied", f"Backup {backup_id} is being copied; delete it once the copy ends.")
    del self.backups[backup_id]
    return {"BackupId": backup_id, "Lifecycle": "DELETED"}


def copy_backup(backend, source_backup_id, source_region, token, kms_key_id, copy_tags, tags):
    """CopyBackup, sent to the destination Region: a USER_INITIATED backup there, COPYING for a while."""
    from moto.fsx.models import fsx_backends

    source_backend = fsx_backends[backend.account_id][source_region or backend.region_name]
    source = source_backend.backups.get(source_backup_id)
    if source is None:
        raise BackupNotFound(source_backup_id)
    if source.lifecycle != "AVAILABLE":
        raise JsonRESTError(
            "SourceBackupUnavailable", f"Backup {source_backup_id} is {source.lifecycle}, not AVAILABLE."
        )
    if token:
        for existing in backend.backups.values():
            if (
                existing.client_request_token == token
                and getattr(existing, "source_backup_id", None) == source_backup_id
            ):
                return existing
    copying = [
        b for b in backend.backups.values() if getattr(b, "source_backup_id", None) and b.lifecycle in IN_PROGRESS
    ]
    if len(copying) >= COPIES_IN_FLIGHT:
        raise JsonRESTError(
            "ServiceLimitExceeded",
            f"At most {COPIES_IN_FLIGHT} backup copies may be in progress to {backend.region_name}.",
        )
    if not tags and copy_tags:
        tags = source_backend.list_tags_for_resource(source.resource_arn)
    copy = models.Backup(
        account_id=backend.account_id,
        region_name=backend.region_name,
        file_system_id=source.file_system_id,
        client_request_token=token,
        volume_id=source.volume_id,
        tags=tags,
        backend=backend,
    )
    copy.owner_id = backend.account_id
    copy.backup_type = "USER_INITIATED"
    copy.file_system_type = getattr(source, "file_system_type", None)
    copy.file_system_info = getattr(source, "file_system_info", {"FileSystemId": source.file_system_id})
    if getattr(source, "volume_info", None):
        copy.volume_info = source.volume_info
    copy.source_backup_id, copy.source_backup_region = source_backup_id, source_backend.region_name
    copy.kms_key_id = kms_key_id
    copy.lifecycle = "COPYING"
    # A copy ends as the destination Region's scripted outcomes for its source say (next-backups, "region").
    scripted = next_outcomes(backend).get(source.volume_id or source.file_system_id)
    outcome = scripted.pop(0) if scripted else {}
    copy.outcome = outcome.get("lifecycle", "AVAILABLE")
    copy.ready_at = time.time() + float(outcome.get("seconds", BACKUP_SECONDS))
    source.copying_until = copy.ready_at
    backend.backups[copy.backup_id] = copy
    return copy


def _response_copy_backup(self):
    p = json.loads(self.body)
    copy = copy_backup(
        self.fsx_backend,
        p.get("SourceBackupId"),
        p.get("SourceRegion"),
        p.get("ClientRequestToken"),
        p.get("KmsKeyId"),
        p.get("CopyTags", False),
        p.get("Tags"),
    )
    return json.dumps({"Backup": copy.to_dict()})


def next_restores(backend):
    """Per backup, the scripted outcomes of its next restores: [{"lifecycle": "FAILED", "message": ...}]."""
    if not hasattr(backend, "snapmgmt_next_restores"):
        backend.snapmgmt_next_restores = {}
        backend.snapmgmt_restore_tokens = {}
    return backend.snapmgmt_next_restores


def _restorable(backend, backup_id: str, of_volume: bool):
    backup = backend.backups.get(backup_id)
    if backup is None:
        raise BackupNotFound(backup_id)
    if backup.lifecycle != "AVAILABLE":
        raise BadRequest(f"Backup {backup_id} is {backup.lifecycle}: only an AVAILABLE backup can be restored.")
    if bool(backup.volume_id) != of_volume:
        how = "CreateVolumeFromBackup" if backup.volume_id else "CreateFileSystemFromBackup"
        raise BadRequest(f"Backup {backup_id} is restored with {how}.")
    return backup


def _being_made(backend, made, backup_id: str) -> None:
    scripted = next_restores(backend).get(backup_id) or []
    made.lifecycle = "CREATING"
    made.ready_at = time.time() + RESTORE_SECONDS
    made.outcome = scripted.pop(0) if scripted else {}


def _restore(self, of_volume: bool, make):
    """One restore request: `make(backend, backup, params)` makes the file system or volume from an AVAILABLE
    backup of its kind, CREATING for a while; the same ClientRequestToken returns what it made before."""
    params = json.loads(self.body)
    backend = self.fsx_backend
    backup = _restorable(backend, params["BackupId"], of_volume)
    next_restores(backend)
    tokens = backend.snapmgmt_restore_tokens
    token = params.get("ClientRequestToken")
    made = tokens.get(token) if token else None
    if made is None:
        made = make(backend, backup, params)
        _being_made(backend, made, backup.backup_id)
        if token:
            tokens[token] = made
    return json.dumps({"Volume" if of_volume else "FileSystem": made.to_dict()})


def _new_file_system(backend, backup, params):
    source = backend.file_systems.get(backup.file_system_id)
    return backend.create_file_system(
        client_request_token=params.get("ClientRequestToken"),
        file_system_type=backup.file_system_info["FileSystemType"],
        storage_capacity=params.get("StorageCapacity") or (source.storage_capacity if source else 1200),
        storage_type=params.get("StorageType", "SSD"),
        subnet_ids=params["SubnetIds"],
        security_group_ids=params.get("SecurityGroupIds") or [],
        tags=params.get("Tags"),
        kms_key_id=params.get("KmsKeyId"),
        windows_configuration=params.get("WindowsConfiguration"),
        lustre_configuration=params.get("LustreConfiguration"),
        ontap_configuration=None,
        file_system_type_version=params.get("FileSystemTypeVersion"),
        open_zfs_configuration=params.get("OpenZFSConfiguration"),
    )


def _new_volume(backend, backup, params):
    return create_volume(backend, "ONTAP", params["Name"], params.get("OntapConfiguration"), params.get("Tags"))


def _response_create_file_system_from_backup(self):
    return _restore(self, False, _new_file_system)


def _response_create_volume_from_backup(self):
    return _restore(self, True, _new_volume)


def _final_backup(backend, file_system_id: str, volume_id: str | None, skip: bool) -> str | None:
    """Unless told to skip it, FSx takes a final backup of what it deletes: a backup no one else asked for."""
    if skip:
        return None
    backup = _original_create_backup(backend, file_system_id, None, volume_id, [{"Key": "Name", "Value": "final"}])
    backup.owner_id, backup.backup_type, backup.outcome, backup.ready_at = (
        backend.account_id,
        "USER_INITIATED",
        "AVAILABLE",
        0,
    )
    source = backend.file_systems.get(file_system_id)
    backup.file_system_info = {
        "FileSystemId": file_system_id,
        "FileSystemType": source.file_system_type if source else "",
    }
    return backup.backup_id


def _response_delete_file_system(self):
    params = json.loads(self.body)
    backend = self.fsx_backend
    fs = backend.file_systems.get(params.get("FileSystemId"))
    if fs is None:
        raise FileSystemNotFound(params.get("FileSystemId"))
    if fs.lifecycle == "CREATING":
        raise BadRequest(f"File system {fs.file_system_id} is still being created: it cannot be deleted yet.")
    config = (
        params.get(
            {"WINDOWS": "WindowsConfiguration", "LUSTRE": "LustreConfiguration", "OPENZFS": "OpenZFSConfiguration"}.get(
                fs.file_system_type, ""
            )
        )
        or {}
    )
    final = _final_backup(
        backend, fs.file_system_id, None, fs.file_system_type == "ONTAP" or config.get("SkipFinalBackup")
    )
    backend.file_systems.pop(fs.file_system_id)
    return json.dumps(
        {"FileSystemId": fs.file_system_id, "Lifecycle": "DELETING", **({"FinalBackupId": final} if final else {})}
    )


def _response_delete_volume(self):
    params = json.loads(self.body)
    backend = self.fsx_backend
    volume = volumes(backend).get(params.get("VolumeId"))
    if volume is None:
        raise VolumeNotFound(params.get("VolumeId"))
    if volume.lifecycle == "CREATING":
        raise BadRequest(f"Volume {volume.volume_id} is still being created: it cannot be deleted yet.")
    skip = (params.get("OntapConfiguration") or {}).get("SkipFinalBackup")
    _final_backup(backend, volume.file_system_id, volume.volume_id, skip)
    volumes(backend).pop(volume.volume_id)
    backend.tagger.delete_all_tags_for_resource(volume.resource_arn)
    return json.dumps({"VolumeId": volume.volume_id, "Lifecycle": "DELETING"})


def next_outcomes(backend):
    """Per file system, the scripted outcomes of its next backups: [{"lifecycle": ..., "seconds": ...}]."""
    if not hasattr(backend, "snapmgmt_next_outcomes"):
        backend.snapmgmt_next_outcomes = {}
    return backend.snapmgmt_next_outcomes


def install() -> None:
    models.Backup.lifecycle = property(_backup_lifecycle, _set_backup_lifecycle)
    models.Backup.to_dict = _backup_to_dict
    models.FileSystem.__init__ = _fs_init
    models.FileSystem.to_dict = _fs_to_dict
    models.FSxBackend.create_backup = _create_backup
    models.FSxBackend.delete_backup = _delete_backup
    # The originals are moto's paginated methods: ours check the ids, then hand over to them.
    models.FSxBackend.describe_file_systems = _describe_file_systems
    models.FSxBackend.describe_backups = _describe_backups
    from moto.fsx.responses import FSxResponse

    FSxResponse.create_storage_virtual_machine = _response_create_storage_virtual_machine
    FSxResponse.create_volume = _response_create_volume
    FSxResponse.describe_volumes = _response_describe_volumes
    FSxResponse.copy_backup = _response_copy_backup
    FSxResponse.create_file_system_from_backup = _response_create_file_system_from_backup
    FSxResponse.create_volume_from_backup = _response_create_volume_from_backup
    FSxResponse.delete_file_system = _response_delete_file_system
    FSxResponse.delete_volume = _response_delete_volume
