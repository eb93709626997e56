"""FSx as the real service behaves, on moto's FSx models.

moto 5.2 leaves out: a file system's Lifecycle and OwnerId; a backup's Type, OwnerId and FileSystem;
backups leaving CREATING; ClientRequestToken idempotency; the one-backup-at-a-time rule
(BackupInProgress); BackupNotFound / FileSystemNotFound for unknown ids. This module adds them.
"""

import os
import time

from moto.core.exceptions import JsonRESTError
from moto.fsx import models
from moto.fsx.exceptions import FileSystemNotFound

# How long a new backup stays CREATING before it reaches its outcome (AVAILABLE unless a test set FAILED).
BACKUP_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_FSX_BACKUP_SECONDS", "1"))
IN_PROGRESS = ("CREATING", "PENDING", "TRANSFERRING")


class BackupInProgress(JsonRESTError):
    def __init__(self, file_system_id: str):
        super().__init__("BackupInProgress", f"Another backup of file system {file_system_id} is already in progress.")


class BackupNotFound(JsonRESTError):
    def __init__(self, backup_id: str):
        super().__init__("BackupNotFound", f"Backup '{backup_id}' does not exist.")


class BadRequest(JsonRESTError):
    def __init__(self, message: str):
        super().__init__("BadRequest", message)


def _backup_lifecycle(self):
    """CREATING until its time is up, then its outcome."""
    if self._lifecycle == "CREATING" and time.time() >= getattr(self, "ready_at", 0):
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
    d["ResourceType"] = "FILE_SYSTEM"
    d["FileSystem"] = self.file_system_info
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


def _fs_to_dict(self):
    d = _original_fs_to_dict(self)
    d["Lifecycle"] = self.lifecycle
    d["OwnerId"] = self.owner_id
    d["CreationTime"] = self.creation_time
    return d


_original_create_backup = models.FSxBackend.create_backup


def _create_backup(self, file_system_id, client_request_token, volume_id, tags):
    fs = self.file_systems.get(file_system_id)
    if fs is None:
        raise FileSystemNotFound(file_system_id)
    if client_request_token:
        for existing in self.backups.values():
            if existing.client_request_token == client_request_token and existing.file_system_id == file_system_id:
                return existing
    if any(b.file_system_id == file_system_id and b.lifecycle in IN_PROGRESS for b in self.backups.values()):
        raise BackupInProgress(file_system_id)
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
    scripted = next_outcomes(self).get(file_system_id)
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
    del self.backups[backup_id]
    return {"BackupId": backup_id, "Lifecycle": "DELETED"}


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
