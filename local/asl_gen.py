#!/usr/bin/env python3
"""Generates statemachine/snapshot-mgmt.asl.json, the scheduled workflow, from one definition per part.

Every kind of target (FSx, EC2, EFS) is a Distributed Map whose child execution runs the kind's own backup
phase (written here once per kind: its waits and polls differ) and then one shared tail: the cleanup, the
copy loop to the copy Region, the copies' cleanup, the target's result and its failure. Every Lambda Task
gets the same Retry (the Lambda service's transient errors, then the functions' Throttled and
AwsUnavailable: `ErrorKind::is_transient` in crates/core/src/error.rs) and Catch (to the target's failure).

`local/asl_gen.py` writes the file; `--check` changes nothing and exits 1 when the committed file is not what
this makes (a test runs it). Run `make workflow` after changing this file, and commit both.

State names: `<Prefix><Step>` for every kind (Fsx, Ec2, Efs), except the original sample's names, which
operators' dashboards and alarms know and which stay its contract: ProcessFSxFileSystems,
CheckBackupInProgress, IsBackupInProgress, Wait, BackupTimeout, BackupFSxFileSystem, CleanupFSxBackups,
ProcessEc2Instances, SnapshotEbsVolumes, InProgress, GetExecutionStatus, ExecutionStatus, RetryEbsSnapshot,
Failed, Success, CleanupOldSnapshots (ORIGINAL_SAMPLE_NAMES). CHANGELOG.md lists the states renamed when the
file became generated. The errors the failure states record (BackupTimeout, SnapshotTimeout, CopyFailed, ...) are
the report's contract and kept.
"""

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "statemachine" / "snapshot-mgmt.asl.json"

# The original sample's state names, kept as they were.
ORIGINAL_SAMPLE_NAMES = (
    "ProcessFSxFileSystems",
    "CheckBackupInProgress",
    "IsBackupInProgress",
    "Wait",
    "BackupTimeout",
    "BackupFSxFileSystem",
    "CleanupFSxBackups",
    "ProcessEc2Instances",
    "SnapshotEbsVolumes",
    "InProgress",
    "GetExecutionStatus",
    "ExecutionStatus",
    "RetryEbsSnapshot",
    "Failed",
    "Success",
    "CleanupOldSnapshots",
)

LAMBDA_INVOKE = "arn:aws:states:::lambda:invoke"
# The Lambda service's transient errors, retried soon; then the functions' own transient kinds (errorType).
LAMBDA_SERVICE_ERRORS = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
]
TRANSIENT_ERRORS = ["Throttled", "AwsUnavailable"]
RETRY_LAMBDA = {
    "ErrorEquals": LAMBDA_SERVICE_ERRORS,
    "IntervalSeconds": 2,
    "MaxAttempts": 6,
    "BackoffRate": 2,
    "JitterStrategy": "FULL",
}
RETRY_TRANSIENT = {
    "ErrorEquals": TRANSIENT_ERRORS,
    "IntervalSeconds": 5,
    "MaxAttempts": 2,
    "BackoffRate": 2,
    "JitterStrategy": "FULL",
}
# FSx allows one backup at a time per file system: the backup waits for another to end.
RETRY_BACKUP_IN_PROGRESS = {
    "ErrorEquals": ["BackupInProgress"],
    "IntervalSeconds": 60,
    "MaxAttempts": 5,
    "BackoffRate": 1,
}

# What the cleanup function returns, as the target's result keeps it.
CLEANUP_RESULT = ["deleted", "kept", "failed", "counts", "truncated", "policy", "adopted"]
COPY_RESULT = ["region", "copyIds", "status", "attempt", "detail"]
POLL_RESULT = ["status", "attempt", "detail"]


def payload_selector(fields):
    return {f"{field}.$": f"$.Payload.{field}" for field in fields}


def retry(*extra):
    """The Retry of every Lambda Task: the Lambda service's errors, `extra`, then the transient kinds."""
    return [RETRY_LAMBDA, *extra, RETRY_TRANSIENT]


def task(function, payload, result_path, next_state, on_error, result=None, comment=None, retries=()):
    """A Lambda Task with the shared Retry, and a Catch to `on_error` (none: the error fails the execution)."""
    state = {"Type": "Task", "Resource": LAMBDA_INVOKE}
    if comment:
        state["Comment"] = comment
    state["Parameters"] = {"FunctionName": f"${{{function}}}", "Payload": payload}
    if result is not None:
        state["ResultSelector"] = result
    state["ResultPath"] = result_path
    state["Retry"] = retry(*retries)
    if on_error:
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": on_error}]
    state["Next"] = next_state
    return state


def failure(error, cause_path, next_state):
    """A Pass that records why the target failed, for its failure state."""
    return {
        "Type": "Pass",
        "Parameters": {"Error": error, "Cause.$": cause_path},
        "ResultPath": "$.error",
        "Next": next_state,
    }


def wait(seconds_path, next_state, comment=None):
    state = {"Type": "Wait"}
    if comment:
        state["Comment"] = comment
    state.update({"SecondsPath": seconds_path, "Next": next_state})
    return state


def dry_run_choice(skip_to, otherwise):
    return {
        "Type": "Choice",
        "Comment": "A dry run takes no backup: nothing to wait for.",
        "Choices": [{"Variable": "$.dryRun", "BooleanEquals": True, "Next": skip_to}],
        "Default": otherwise,
    }


def poll_choice(ready, failed, timeout, max_polls, otherwise):
    """Ready, Failed, or still in progress after `max_polls` (a timing field): where each goes."""
    choices = [{"Variable": "$.poll.status", "StringEquals": "Ready", "Next": ready}]
    if failed:
        choices.append({"Variable": "$.poll.status", "StringEquals": "Failed", "Next": failed})
    in_progress = {"Variable": "$.poll.status", "StringEquals": "InProgress"}
    too_long = {"Variable": "$.poll.attempt", "NumericGreaterThanEqualsPath": f"$.timing.{max_polls}"}
    choices.append({"And": [in_progress, too_long], "Next": timeout})
    return {"Type": "Choice", "Choices": choices, "Default": otherwise}


class Kind:
    """One kind of target: how its child execution names its id and its backup, and its own backup phase."""

    def __init__(self, **fields):
        self.__dict__.update(fields)

    def name(self, step):
        return f"{self.prefix}{step}"

    @property
    def failed(self):
        return self.name("TargetFailed")


# ---------------------------------------------------------------- the kinds

FSX = Kind(
    label="fsx",
    prefix="Fsx",
    map_name="ProcessFSxFileSystems",
    id_field="fileSystemId",
    backup_function="BackupFsxFunctionArn",
    new_backup_field="newBackupId",
    new_backup_path="$.backup.backupId",
    created_path="$.backup.backupId",
    cleanup_state="CleanupFSxBackups",
    copy_state="CopyFsxBackup",
    copy_source={"backupId.$": "$.backup.backupId"},
    copy_comment="Starts the copy unless it is under way (once, whoever asks again) and says how it is doing.",
    copy_result_extra=[],
    item_state={"backup": {"backupId": None}, "poll": {"attempt": 0}},
    result_extra={},
)

EC2 = Kind(
    label="ec2",
    prefix="Ec2",
    map_name="ProcessEc2Instances",
    id_field="instanceId",
    backup_function="SnapshotEbsFunctionArn",
    new_backup_field="newSnapshotIds",
    new_backup_path="$.snapshot.snapshotIds",
    created_path="$.snapshot.snapshotIds",
    cleanup_state="CleanupOldSnapshots",
    copy_state="CopyEc2SnapshotSet",
    copy_source={"snapshotIds.$": "$.snapshot.snapshotIds"},
    copy_comment="Starts the copies not under way yet (each snapshot once, whoever asks again) and says how they "
    "are doing.",
    copy_result_extra=[],
    item_state={"retry": {"count": 0}, "snapshot": {"snapshotIds": [], "consistency": None}, "poll": {"attempt": 0}},
    result_extra={"retries.$": "$.retry.count", "consistency.$": "$.snapshot.consistency"},
)

EFS = Kind(
    label="efs",
    prefix="Efs",
    map_name="ProcessEfsFileSystems",
    id_field="fileSystemId",
    backup_function="EfsBackupFunctionArn",
    new_backup_field="newRecoveryPointArn",
    new_backup_path="$.poll.recoveryPointArn",
    created_path="$.backupJob.backupJobId",
    cleanup_state="CleanupEfsBackups",
    copy_state="CopyEfsRecoveryPoint",
    copy_source={"recoveryPointArn.$": "$.poll.recoveryPointArn", "copyJobId.$": "$.copy.copyJobId"},
    copy_comment="Starts an AWS Backup copy job into the copy Region's vault (once: its token derives from the "
    "run), then follows the job it hands on.",
    copy_result_extra=["copyJobId"],
    item_state={"backupJob": {"backupJobId": None}, "poll": {"attempt": 0, "recoveryPointArn": None}},
    result_extra={},
)


def fsx_backup_phase(k):
    """FSx: wait until no backup is in progress (the original sample's loop), back up, wait until AVAILABLE."""
    check = {"kind": "fsx", "fileSystemId.$": "$.fileSystemId", "attempt.$": "$.poll.attempt", "runId.$": "$.runId"}
    check_new = {"kind": "fsxBackup", "backupId.$": "$.backup.backupId", "attempt.$": "$.poll.attempt"}
    check_new["runId.$"] = "$.runId"
    backup = {"fileSystemId.$": "$.fileSystemId", "runId.$": "$.runId", "dryRun.$": "$.dryRun"}
    in_progress_timeout = poll_choice("BackupFSxFileSystem", None, "BackupTimeout", "fsxMaxWaitAttempts", "Wait")
    return {
        "CheckBackupInProgress": task(
            "CheckInProgressFunctionArn",
            check,
            "$.poll",
            "IsBackupInProgress",
            k.failed,
            payload_selector(POLL_RESULT),
        ),
        "IsBackupInProgress": in_progress_timeout,
        "Wait": wait("$.timing.fsxWaitSeconds", "CheckBackupInProgress"),
        "BackupTimeout": failure("BackupTimeout", "$.poll.detail", k.failed),
        "BackupFSxFileSystem": task(
            k.backup_function,
            backup,
            "$.backup",
            "IsFsxDryRun",
            k.failed,
            {"backupId.$": "$.Payload.backupId"},
            retries=[RETRY_BACKUP_IN_PROGRESS],
        ),
        "IsFsxDryRun": dry_run_choice(k.cleanup_state, "ResetFsxPoll"),
        "ResetFsxPoll": {
            "Type": "Pass",
            "Comment": "The new backup's wait starts its own count.",
            "Result": {"attempt": 0},
            "ResultPath": "$.poll",
            "Next": "CheckNewFsxBackup",
        },
        "CheckNewFsxBackup": task(
            "CheckInProgressFunctionArn",
            check_new,
            "$.poll",
            "IsNewFsxBackupAvailable",
            k.failed,
            payload_selector(POLL_RESULT),
        ),
        "IsNewFsxBackupAvailable": poll_choice(
            k.cleanup_state, "NewFsxBackupFailed", "NewFsxBackupTimeout", "fsxMaxPolls", "WaitForNewFsxBackup"
        ),
        "WaitForNewFsxBackup": wait("$.timing.fsxPollSeconds", "CheckNewFsxBackup"),
        "NewFsxBackupFailed": failure("BackupFailed", "$.poll.detail", k.failed),
        "NewFsxBackupTimeout": failure("NewBackupTimeout", "$.poll.detail", k.failed),
    }


def ec2_backup_phase(k):
    """EC2: start the snapshot run, poll it (the original sample's loop), retry a failed run a few times."""
    snapshot = {
        "instanceId.$": "$.instanceId",
        "runId.$": "$.runId",
        "dryRun.$": "$.dryRun",
        "attempt.$": "$.retry.count",
    }
    status = {
        "kind": "ec2Snapshot",
        "instanceId.$": "$.instanceId",
        "automationExecutionId.$": "$.snapshot.automationExecutionId",
        "snapshotIds.$": "$.snapshot.snapshotIds",
        "attempt.$": "$.poll.attempt",
        "runId.$": "$.runId",
    }
    failed_and_retries_left = {
        "And": [
            {"Variable": "$.poll.status", "StringEquals": "Failed"},
            {"Variable": "$.retry.count", "NumericLessThanPath": "$.timing.ec2MaxRetries"},
        ],
        "Next": "RetryEbsSnapshot",
    }
    return {
        "SnapshotEbsVolumes": task(
            k.backup_function,
            snapshot,
            "$.snapshot",
            "IsEc2DryRun",
            k.failed,
            # Known once the set completes (GetExecutionStatus); null until then, and in a dry run.
            {**payload_selector(["automationExecutionId", "snapshotIds"]), "consistency": None},
        ),
        "IsEc2DryRun": dry_run_choice(k.cleanup_state, "InProgress"),
        "InProgress": wait("$.timing.ec2PollSeconds", "GetExecutionStatus"),
        "GetExecutionStatus": task(
            "CheckInProgressFunctionArn",
            status,
            "$.poll",
            "ExecutionStatus",
            k.failed,
            payload_selector([*POLL_RESULT, "snapshotIds", "consistency"]),
        ),
        "ExecutionStatus": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.poll.status", "StringEquals": "Ready", "Next": "Success"},
                failed_and_retries_left,
                {"Variable": "$.poll.status", "StringEquals": "Failed", "Next": "Failed"},
                {
                    "Variable": "$.poll.attempt",
                    "NumericGreaterThanEqualsPath": "$.timing.ec2MaxPolls",
                    "Next": "Ec2SnapshotTimeout",
                },
            ],
            "Default": "InProgress",
        },
        "RetryEbsSnapshot": {
            "Type": "Pass",
            "Parameters": {"count.$": "States.MathAdd($.retry.count, 1)", "lastFailure.$": "$.poll.detail"},
            "ResultPath": "$.retry",
            "Next": "ResetEc2Poll",
        },
        "ResetEc2Poll": {
            "Type": "Pass",
            "Result": {"attempt": 0},
            "ResultPath": "$.poll",
            "Next": "SnapshotEbsVolumes",
        },
        "Failed": failure("SnapshotFailed", "$.poll.detail", k.failed),
        "Ec2SnapshotTimeout": failure("SnapshotTimeout", "$.poll.detail", k.failed),
        "Success": {
            "Type": "Pass",
            "Parameters": {"snapshotIds.$": "$.poll.snapshotIds", "consistency.$": "$.poll.consistency"},
            "ResultPath": "$.snapshot",
            "Next": k.cleanup_state,
        },
    }


def efs_backup_phase(k):
    """EFS: the SOP's steps, an AWS Backup job started once and followed until it ends."""
    start = {"action": "start", "fileSystemId.$": "$.fileSystemId", "runId.$": "$.runId", "dryRun.$": "$.dryRun"}
    status = {
        "action": "status",
        "backupJobId.$": "$.backupJob.backupJobId",
        "attempt.$": "$.poll.attempt",
        "runId.$": "$.runId",
    }
    return {
        "StartEfsBackup": task(
            k.backup_function,
            start,
            "$.backupJob",
            "IsEfsDryRun",
            k.failed,
            {"backupJobId.$": "$.Payload.backupJobId"},
        ),
        "IsEfsDryRun": dry_run_choice(k.cleanup_state, "WaitForEfsBackup"),
        "WaitForEfsBackup": wait("$.timing.efsPollSeconds", "CheckEfsBackupJob"),
        "CheckEfsBackupJob": task(
            k.backup_function,
            status,
            "$.poll",
            "EfsBackupJobStatus",
            k.failed,
            payload_selector([*POLL_RESULT, "recoveryPointArn"]),
        ),
        "EfsBackupJobStatus": poll_choice(
            k.cleanup_state, "EfsBackupFailed", "EfsBackupTimeout", "efsMaxPolls", "WaitForEfsBackup"
        ),
        "EfsBackupFailed": failure("BackupFailed", "$.poll.detail", k.failed),
        "EfsBackupTimeout": failure("BackupJobTimeout", "$.poll.detail", k.failed),
    }


BACKUP_PHASES = ((FSX, fsx_backup_phase), (EC2, ec2_backup_phase), (EFS, efs_backup_phase))


# ---------------------------------------------------------------- the shared tail


def cleanup_payload(k, new_backup_path, region=False):
    payload = {"kind": k.label, f"{k.id_field}.$": f"$.{k.id_field}", f"{k.new_backup_field}.$": new_backup_path}
    if region:
        payload["region.$"] = "$.copyRegion"
    payload.update({"dryRun.$": "$.dryRun", "maxDeletePercent.$": "$.maxDeletePercent", "runId.$": "$.runId"})
    return payload


def target_result(k, **more):
    result = {
        "kind": k.label,
        "targetId.$": f"$.{k.id_field}",
        "dryRun.$": "$.dryRun",
        "created.$": k.created_path,
    }
    result.update(more)
    return result


def tail(k):
    """After the kind's backup: its cleanup, the copy loop, the copies' cleanup, the result, the failure."""
    copies_choice, copy_status = k.name("CopiesToAnotherRegion"), k.name("CopyStatus")
    wait_for_copy, cleanup_copies = f"WaitFor{k.prefix}Copy", f"Cleanup{k.prefix}Copies"
    copied, done = k.name("CopiedDone"), k.name("TargetDone")
    copy_payload = {"action": "copy", f"{k.id_field}.$": f"$.{k.id_field}", **k.copy_source}
    copy_payload.update({"runId.$": "$.runId", "dryRun.$": "$.dryRun", "attempt.$": "$.copy.attempt"})
    cleanup_result = payload_selector(CLEANUP_RESULT)
    return {
        k.cleanup_state: task(
            "CleanupFunctionArn",
            cleanup_payload(k, k.new_backup_path),
            "$.cleanup",
            copies_choice,
            k.failed,
            cleanup_result,
        ),
        copies_choice: {
            "Type": "Choice",
            "Comment": "With COPY_REGION set, the new backup is copied there, after the source's cleanup, which "
            "never waits for the copy.",
            "Choices": [{"Variable": "$.copyRegion", "IsString": True, "Next": k.copy_state}],
            "Default": done,
        },
        k.copy_state: task(
            k.backup_function,
            copy_payload,
            "$.copy",
            copy_status,
            k.failed,
            payload_selector([*COPY_RESULT, *k.copy_result_extra]),
            comment=k.copy_comment,
        ),
        copy_status: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.copy.status", "StringEquals": "Ready", "Next": cleanup_copies},
                {"Variable": "$.copy.status", "StringEquals": "Failed", "Next": k.name("CopyFailed")},
                {
                    "Variable": "$.copy.attempt",
                    "NumericGreaterThanEqualsPath": "$.timing.copyMaxPolls",
                    "Next": k.name("CopyTimeout"),
                },
            ],
            "Default": wait_for_copy,
        },
        wait_for_copy: wait(
            "$.timing.copyPollSeconds",
            k.copy_state,
            "Copies in flight, or AWS's limit on them reached: asked again later, never failed for it.",
        ),
        k.name("CopyFailed"): failure("CopyFailed", "$.copy.detail", k.failed),
        k.name("CopyTimeout"): failure("CopyTimeout", "$.copy.detail", k.failed),
        cleanup_copies: task(
            "CleanupFunctionArn",
            cleanup_payload(k, "$.copy.copyIds", region=True),
            "$.copyCleanup",
            copied,
            k.failed,
            cleanup_result,
            comment="The copy Region's copies of this target, by the same rule, once this run's copy completed.",
        ),
        copied: {
            "Type": "Pass",
            "Parameters": target_result(
                k,
                **k.result_extra,
                **{
                    "cleanup.$": "$.cleanup",
                    "copy": {"region.$": "$.copy.region", "copyIds.$": "$.copy.copyIds", "cleanup.$": "$.copyCleanup"},
                },
            ),
            "End": True,
        },
        done: {
            "Type": "Pass",
            "Parameters": target_result(k, **k.result_extra, **{"cleanup.$": "$.cleanup"}),
            "End": True,
        },
        k.failed: {
            "Type": "Pass",
            "Comment": "The target's result, its error and the backups it made: the cause of the Fail that follows.",
            "Parameters": target_result(k, **{"error.$": "$.error.Error", "cause.$": "$.error.Cause"}),
            "Next": k.name("Failed"),
        },
        k.name("Failed"): {
            "Type": "Fail",
            "Comment": "This target's child execution fails alone; the run's report names it.",
            "ErrorPath": "$.error",
            "CausePath": "States.JsonToString($)",
        },
    }


# ---------------------------------------------------------------- the run


def distributed_map(label, comment, inventory_key, item_selector, concurrency, start_at, states):
    """A Distributed Map over one inventory file: one STANDARD child execution per item, results to the bucket."""
    state = {
        "Type": "Map",
        "Comment": comment,
        "Label": label,
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": "$.inventory.bucket", "Key.$": f"$.inventory.{inventory_key}"},
        },
        "ItemSelector": item_selector,
        **concurrency,
        "ToleratedFailurePercentage": 100,
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": start_at,
            "States": states,
        },
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": "${InventoryBucket}", "Prefix": "results"},
        },
        "ResultSelector": {"bucket.$": "$.ResultWriterDetails.Bucket", "key.$": "$.ResultWriterDetails.Key"},
        "End": True,
    }
    return state


def kind_branch(k, phase):
    states = {**phase(k), **tail(k)}
    selector = {
        f"{k.id_field}.$": "$$.Map.Item.Value.id",
        "runId.$": "$$.Execution.Name",
        "dryRun.$": "$.dryRun",
        "timing.$": "$.timing",
        "maxDeletePercent.$": "$.maxDeletePercent",
        **k.item_state,
        "copyRegion.$": "$.copyRegion",
        "copy": {"attempt": 0, "copyJobId": None} if k.copy_result_extra else {"attempt": 0},
    }
    comment = f"One STANDARD child execution per {k.label} target of the inventory; a target's failure is its own."
    concurrency = {"MaxConcurrencyPath": f"$.concurrency.{k.label}"}
    return {
        "StartAt": k.map_name,
        "States": {
            k.map_name: distributed_map(k.label, comment, k.label, selector, concurrency, next(iter(states)), states)
        },
    }


def orphans_branch():
    of = {
        "kind.$": "$.of.kind",
        "targetId.$": "$.of.id",
        "orphan": True,
        "region.$": "$.of.region",
        "dryRun.$": "$.dryRun",
    }
    payload = {"kind": "orphan", "of.$": "$.of", "dryRun.$": "$.dryRun", "maxDeletePercent.$": "$.maxDeletePercent"}
    payload["runId.$"] = "$.runId"
    result = payload_selector(
        [
            "deleted",
            "kept",
            "failed",
            "counts",
            "truncated",
            "dryRun",
            "ages",
            "policy",
            "adopted",
            "judgedBy",
            "resourceGone",
        ]
    )
    states = {
        "CleanupOrphan": task(
            "CleanupFunctionArn",
            payload,
            "$.cleanup",
            "OrphanDone",
            "OrphanFailed",
            result,
            comment="Reports (and, with DELETE_ORPHANS, deletes) the expired backups of a resource that is no longer a "
            "target (or, named with a region, its copies in the copy Region): its own retention, the newest kept, the "
            "guard.",
        ),
        "OrphanDone": {"Type": "Pass", "Parameters": {**of, "cleanup.$": "$.cleanup"}, "End": True},
        "OrphanFailed": {
            "Type": "Pass",
            "Comment": "The orphan's result and its error: the cause of the Fail that follows.",
            "Parameters": {**of, "error.$": "$.error.Error", "cause.$": "$.error.Cause"},
            "Next": "OrphanCleanupFailed",
        },
        "OrphanCleanupFailed": {
            "Type": "Fail",
            "Comment": "This orphan fails alone; the run report names it.",
            "ErrorPath": "$.error",
            "CausePath": "States.JsonToString($)",
        },
    }
    selector = {
        "of.$": "$$.Map.Item.Value",
        "runId.$": "$$.Execution.Name",
        "dryRun.$": "$.dryRun",
        "maxDeletePercent.$": "$.maxDeletePercent",
    }
    comment = (
        "One STANDARD child execution per resource that is no longer a target but has backups of ours (the "
        "trigger's orphans inventory); a failure is its own."
    )
    orphans = distributed_map("orphans", comment, "orphans", selector, {"MaxConcurrency": 10}, "CleanupOrphan", states)
    return {"StartAt": "ProcessOrphans", "States": {"ProcessOrphans": orphans}}


def definition():
    report_payload = {
        "runId.$": "$.runId",
        "dryRun.$": "$.dryRun",
        "results.$": "$.results",
        "executionId.$": "$$.Execution.Id",
    }
    report_result = payload_selector(["runId", "dryRun", "totals", "failedTargets", "failedTargetsTruncated", "report"])
    failed_cause = (
        "States.Format('{} of {} targets failed: {}; the full report: s3://{}/{}', $.totals.failedTargets, "
        "$.totals.targets, States.JsonToString($.failedTargets), $.report.bucket, $.report.key)"
    )
    return {
        "Comment": "snapmgmt: back up every tagged FSx file system, EC2 instance and EFS file system, then delete our "
        "expired backups. Input: the trigger's WorkflowInput (runId, where the inventory is, timing, dryRun, "
        "concurrency per kind, maxDeletePercent); each kind is a Distributed Map over its inventory, one child "
        "execution per target, and a fourth reports (and, with DELETE_ORPHANS, cleans) the backups of resources "
        "that are no longer targets, results written to the bucket. Output: the run's totals, its failed targets "
        "and where the full report is. Generated by local/asl_gen.py: edit that, not this.",
        "TimeoutSeconds": 82800,
        "StartAt": "BackupAllTargets",
        "States": {
            "BackupAllTargets": {
                "Type": "Parallel",
                "Branches": [*(kind_branch(k, phase) for k, phase in BACKUP_PHASES), orphans_branch()],
                "ResultSelector": {"fsx.$": "$[0]", "ec2.$": "$[1]", "efs.$": "$[2]", "orphans.$": "$[3]"},
                "ResultPath": "$.results",
                "Next": "Report",
            },
            "Report": task(
                "ReportFunctionArn",
                report_payload,
                "$",
                "AnyTargetFailed",
                None,
                report_result,
                comment="Sums every target's own counts from the result files, writes the full report to the bucket; "
                "its output is the execution's.",
            ),
            "AnyTargetFailed": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.totals.failedTargets", "NumericGreaterThan": 0, "Next": "TargetsFailed"}],
                "Default": "AllTargetsSucceeded",
            },
            "TargetsFailed": {"Type": "Fail", "Error": "TargetsFailed", "CausePath": failed_cause},
            "AllTargetsSucceeded": {"Type": "Succeed"},
        },
    }


def render() -> str:
    return json.dumps(definition(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when the file has drifted")
    args = parser.parse_args()
    text = render()
    if args.check:
        if OUTPUT.read_text() != text:
            print(
                f"{OUTPUT.relative_to(ROOT)} is not what local/asl_gen.py makes: run `make workflow`", file=sys.stderr
            )
            return 1
        return 0
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
