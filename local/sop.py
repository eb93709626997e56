#!/usr/bin/env python3
"""Runs the EFS backup SOP state machine once and prints its output (RecoveryPointArn, BackupJobId).

Locally (after `. local/.state/env`), with no arguments, it backs up the first tagged EFS file system into
the local vault. Against AWS, name them: --file-system-id, --vault, --role, --state-machine-arn.
"""

import argparse
import json
import sys

import deploy
import stack
import workflow


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file-system-id")
    parser.add_argument("--vault", default=deploy.BACKUP_VAULT)
    parser.add_argument("--role", default="arn:aws:iam::123456789012:role/snapmgmt-local-backup")
    parser.add_argument("--state-machine-arn")
    parser.add_argument("--poll-seconds", type=int, default=30)
    args = parser.parse_args()

    sfn = stack.client("stepfunctions")
    arn = args.state_machine_arn or next(
        m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"].endswith("efs-backup")
    )
    fs_id = args.file_system_id or next(
        fs["FileSystemId"]
        for fs in stack.client("efs").describe_file_systems()["FileSystems"]
        if stack.TARGET_TAG in fs.get("Tags", [])
    )
    sop_input = {
        "FileSystemId": fs_id,
        "BackupVaultName": args.vault,
        "BackupJobIamRoleArn": args.role,
        "PollSeconds": args.poll_seconds,
    }
    execution = workflow.wait_for(
        sfn, sfn.start_execution(stateMachineArn=arn, input=json.dumps(sop_input))["executionArn"], 3600
    )
    print(f"{fs_id}: {execution['status']}")
    print(execution.get("output") or f"{execution.get('error')}: {execution.get('cause')}")
    return 0 if execution["status"] == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
