"""Helpers over the local stack, for the seed script and the end-to-end tests: AWS clients aimed at the
emulator, the emulator's control routes, and FSx resources made through the AWS API."""

import json
import os
import time
import urllib.request

import boto3

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
TARGET_TAG = {"Key": "ResourceType", "Value": "SnapshotMgmtTarget"}
DAY = 86_400


def endpoint() -> str:
    return os.environ["AWS_ENDPOINT_URL"]


def client(service: str, url: str = None):
    return boto3.client(
        service,
        endpoint_url=url or endpoint(),
        region_name=REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def control(path: str, body: dict, url: str = None) -> dict:
    """POSTs to one of the emulator's control routes (moto's /moto-api/ and ours under /moto-api/snapmgmt/)."""
    request = urllib.request.Request(
        (url or endpoint()) + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def our_tags(fs_id: str) -> list:
    return [{"Key": "ManagedBy", "Value": "snapmgmt"}, {"Key": "snapmgmt:TargetId", "Value": fs_id}]


def create_file_system(fsx, kind: str = "WINDOWS", tagged: bool = True, name: str = None, **config) -> str:
    tags = [TARGET_TAG] if tagged else []
    tags.append({"Key": "Name", "Value": name or ("target" if tagged else "not-a-target")})
    if kind == "WINDOWS":
        config.setdefault("WindowsConfiguration", {"ThroughputCapacity": 8})
    return fsx.create_file_system(
        FileSystemType=kind, StorageCapacity=1200, SubnetIds=["subnet-0123456789abcdef0"], Tags=tags, **config
    )["FileSystem"]["FileSystemId"]


def create_backup(fsx, fs_id: str, age_days: float, ours: bool, lifecycle: str = "AVAILABLE", url: str = None) -> str:
    """A backup made through FSx, then aged (and its lifecycle set) through the emulator's control route."""
    tags = our_tags(fs_id) if ours else []
    tags.append({"Key": "Name", "Value": f"demo, {age_days:g} days old"})
    backup_id = fsx.create_backup(FileSystemId=fs_id, Tags=tags)["Backup"]["BackupId"]
    created = time.time() - age_days * DAY
    control(
        "/moto-api/snapmgmt/fsx/backup", {"backupId": backup_id, "creationTime": created, "lifecycle": lifecycle}, url
    )
    return backup_id


def script_next_backups(fs_id: str, outcomes: list, url: str = None) -> None:
    """Sets how the file system's next backups end, e.g. [{"lifecycle": "FAILED", "seconds": 0}]."""
    control("/moto-api/snapmgmt/fsx/next-backups", {"fileSystemId": fs_id, "outcomes": outcomes}, url)


def backup_ids(fsx, fs_id: str) -> set:
    pages = fsx.get_paginator("describe_backups").paginate(Filters=[{"Name": "file-system-id", "Values": [fs_id]}])
    return {b["BackupId"] for page in pages for b in page["Backups"]}
