#!/usr/bin/env python3
"""Seeds the local stack with demo resources, through the AWS API, and prints what it made as JSON:

  a Windows file system, tagged as a target: our backups 40, 20 and 3 days old, and a 60-day-old
      backup someone else made (no ManagedBy tag)
  a persistent Lustre file system, tagged: one of our backups, 30 days old, and a backup someone
      started a moment ago, still CREATING: the workflow waits for it before taking its own
  a scratch Lustre file system, tagged: skipped (scratch file systems have no backups)
  a Windows file system, not tagged: its old backup is never touched
  an instance with two data volumes, tagged: our snapshot sets 30 and 3 days old, and someone else's
      snapshot; its first snapshot run fails and is retried
  an instance without an SSM agent, tagged, and tagged snapmgmt:SnapshotMode=direct: a crash-consistent set
  an instance, not tagged: never snapshotted
  an EFS file system, tagged: backed up through AWS Backup into the stack's vault; one, not tagged

Usage: seed.py   (after `. local/.state/env`)
"""

import json

import stack


def main() -> None:
    fsx = stack.client("fsx")
    windows = stack.create_file_system(fsx, "WINDOWS", name="demo-windows")
    lustre = stack.create_file_system(
        fsx,
        "LUSTRE",
        name="demo-lustre",
        LustreConfiguration={"DeploymentType": "PERSISTENT_1", "PerUnitStorageThroughput": 50},
    )
    scratch = stack.create_file_system(
        fsx, "LUSTRE", name="demo-scratch", LustreConfiguration={"DeploymentType": "SCRATCH_2"}
    )
    untagged = stack.create_file_system(fsx, "WINDOWS", tagged=False, name="not-a-target")

    seeded = {
        windows: [
            stack.create_backup(fsx, windows, age, ours)
            for age, ours in ((40, True), (20, True), (3, True), (60, False))
        ],
        lustre: [stack.create_backup(fsx, lustre, 30, True)],
        scratch: [],
        untagged: [stack.create_backup(fsx, untagged, 90, True)],
    }
    stack.script_next_backups(lustre, [{"lifecycle": "AVAILABLE", "seconds": 3}])
    seeded[lustre].append(fsx.create_backup(FileSystemId=lustre)["Backup"]["BackupId"])
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2, name="demo-instance")
    seeded[instance] = [
        stack.create_snapshot(ec2, instance, 30, ours=True, run="an-old-run"),
        stack.create_snapshot(ec2, instance, 3, ours=True, run="a-recent-run"),
        stack.create_snapshot(ec2, instance, 60, ours=False),
    ]
    stack.script_next_automations(
        instance, [{"status": "Failed", "snapshots": True, "message": "Step ThawLinux failed"}]
    )
    seeded[stack.create_instance(ec2, name="demo-no-agent", mode="direct")] = []
    seeded[stack.create_instance(ec2, tagged=False, name="not-a-target")] = []
    efs = stack.client("efs")
    seeded[stack.create_efs(efs, name="demo-efs")["FileSystemId"]] = []
    seeded[stack.create_efs(efs, tagged=False)["FileSystemId"]] = []
    print(json.dumps(seeded, indent=2))


if __name__ == "__main__":
    main()
