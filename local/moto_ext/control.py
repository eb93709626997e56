"""Test-control routes, beside moto's own /moto-api/ ones: set what a test cannot set through AWS.

POST /moto-api/snapmgmt/fsx/backup       {"backupId", "creationTime"?, "lifecycle"?, "type"?, "ownerId"?}
POST /moto-api/snapmgmt/fsx/file-system  {"fileSystemId", "lifecycle"?}
POST /moto-api/snapmgmt/fsx/next-backups {"fileSystemId", "outcomes": [{"lifecycle": "FAILED", "seconds": 5}]}
Every body may also name "accountId" and "region" (default 123456789012 / us-east-1).
"""

import json

from moto.core import DEFAULT_ACCOUNT_ID
from moto.fsx.models import fsx_backends
from moto.moto_api._internal import urls

from . import fsx


def _body(request) -> dict:
    raw = request.get_data() if hasattr(request, "get_data") else request.body
    return json.loads(raw or b"{}")


def _fsx_backend(body: dict):
    return fsx_backends[body.get("accountId", DEFAULT_ACCOUNT_ID)][body.get("region", "us-east-1")]


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
    return _ok(fs.to_dict())


def fsx_next_backups(request, full_url, headers):
    body = _body(request)
    backend = _fsx_backend(body)
    fsx.next_outcomes(backend)[body["fileSystemId"]] = list(body.get("outcomes", []))
    return _ok({"scripted": len(body.get("outcomes", []))})


ROUTES = {
    "{0}/moto-api/snapmgmt/fsx/backup": fsx_backup,
    "{0}/moto-api/snapmgmt/fsx/file-system": fsx_file_system,
    "{0}/moto-api/snapmgmt/fsx/next-backups": fsx_next_backups,
}


def install() -> None:
    urls.url_paths.update(ROUTES)
