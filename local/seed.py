#!/usr/bin/env python3
"""Seeds the local emulator with demo FSx file systems and backups, through the AWS API (boto3).

  fs A  Windows, tagged as a target: our backups 40, 20 and 3 days old, and a 60-day-old backup
        someone else made (no ManagedBy tag)
  fs B  Lustre PERSISTENT_1, tagged: one of our backups, 30 days old, plus one still CREATING, so
        the run waits for it first
  fs C  Lustre SCRATCH_2, tagged: skipped (scratch file systems have no backups)
  fs D  Windows, not tagged: its old backup is never touched

Usage: seed.py ENDPOINT   (prints the ids it made as JSON)
"""

import json
import sys
import time
import urllib.request

import boto3

ACCOUNT_ID = "123456789012"
TARGET = [{"Key": "ResourceType", "Value": "SnapshotMgmtTarget"}]
DAY = 86_400


def main() -> None:
    endpoint = sys.argv[1]
    fsx = boto3.client(
        "fsx",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )

    def control(path: str, body: dict) -> None:
        request = urllib.request.Request(
            endpoint + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        urllib.request.urlopen(request).read()

    def file_system(kind: str, tags: list, **config) -> str:
        return fsx.create_file_system(
            FileSystemType=kind, StorageCapacity=1200, SubnetIds=["subnet-0123456789abcdef0"], Tags=tags, **config
        )["FileSystem"]["FileSystemId"]

    def backup(fs_id: str, age_days: int, ours: bool, lifecycle: str = "AVAILABLE") -> str:
        tags = [{"Key": "ManagedBy", "Value": "snapmgmt"}, {"Key": "snapmgmt:TargetId", "Value": fs_id}] if ours else []
        tags.append({"Key": "Name", "Value": f"demo, {age_days} days old"})
        backup_id = fsx.create_backup(FileSystemId=fs_id, Tags=tags)["Backup"]["BackupId"]
        created = time.time() - age_days * DAY
        control("/moto-api/snapmgmt/fsx/backup", {"backupId": backup_id, "creationTime": created, "lifecycle": lifecycle})
        return backup_id

    windows = {"WindowsConfiguration": {"ThroughputCapacity": 8}}
    fs_a = file_system("WINDOWS", TARGET + [{"Key": "Name", "Value": "demo-windows"}], **windows)
    fs_b = file_system("LUSTRE", TARGET, LustreConfiguration={"DeploymentType": "PERSISTENT_1", "PerUnitStorageThroughput": 50})
    fs_c = file_system("LUSTRE", TARGET, LustreConfiguration={"DeploymentType": "SCRATCH_2"})
    fs_d = file_system("WINDOWS", [{"Key": "Name", "Value": "not-a-target"}], **windows)

    seeded = {
        fs_a: [backup(fs_a, 40, True), backup(fs_a, 20, True), backup(fs_a, 3, True), backup(fs_a, 60, False)],
        fs_b: [backup(fs_b, 30, True)],
        fs_c: [],
        fs_d: [backup(fs_d, 90, False)],
    }
    # A backup someone started a moment ago: the run waits for it before taking its own.
    fsx.create_backup(FileSystemId=fs_b)
    print(json.dumps(seeded, indent=2))


if __name__ == "__main__":
    main()
