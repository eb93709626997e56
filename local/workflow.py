#!/usr/bin/env python3
"""Runs the scheduled workflow once and prints what it did.

Invokes the trigger function with a scheduled event, as the EventBridge schedule does, waits for the
Step Functions execution it started, then prints, per target, what was created, deleted, kept and why,
or why it failed. Exits 1 when the execution did not succeed.

Works against whatever the AWS SDK is pointed at: AWS itself, or the local stack (source
local/.state/env: AWS_ENDPOINT_URL for the emulator, AWS_ENDPOINT_URL_LAMBDA for the functions).
"""

import argparse
import datetime
import json
import sys
import time

import boto3
from botocore.config import Config

FINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--function", default="trigger", help="the trigger function's name (default: trigger)")
    parser.add_argument("--dry-run", action="store_true", help="change nothing; report what would be done")
    parser.add_argument("--poll-seconds", type=int, help="shorten every wait of the workflow to this (local runs)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds to wait for the execution")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--max-delete-percent", type=int, help="the delete guard's limit for this run (default: the setting, 50)"
    )
    args = parser.parse_args()

    event = scheduled_event(args.dry_run, args.poll_seconds)
    if args.max_delete_percent is not None:
        event["maxDeletePercent"] = args.max_delete_percent
    # One attempt, so that a slow answer cannot start a second invocation; the trigger is idempotent anyway.
    lambda_client = boto3.client("lambda", config=Config(read_timeout=900, retries={"total_max_attempts": 1}))
    started = invoke(lambda_client, args.function, event)
    sfn = boto3.client("stepfunctions")
    print(f"started {started['executionArn'].split(':')[-1]}; progress:", file=sys.stderr, flush=True)
    execution = wait_for(sfn, started["executionArn"], args.timeout, progress=None if args.json else sys.stderr)
    summary = summarize(sfn, started, execution)
    print(json.dumps(summary, indent=2) if args.json else render(summary))
    return 0 if summary["status"] == "SUCCEEDED" else 1


def scheduled_event(dry_run: bool, poll_seconds) -> dict:
    """The event an EventBridge schedule sends, plus snapmgmt's optional dryRun and timing."""
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "version": "0",
        "id": f"snapmgmt-{now}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "time": now,
        "region": boto3.session.Session().region_name,
        "resources": [],
        "detail": {},
        "dryRun": dry_run,
    }
    if poll_seconds is not None:
        event["timing"] = {
            name: poll_seconds
            for name in ("fsxWaitSeconds", "fsxPollSeconds", "ec2PollSeconds", "efsPollSeconds", "copyPollSeconds")
        }
    return event


def invoke(client, function: str, event: dict) -> dict:
    response = client.invoke(FunctionName=function, Payload=json.dumps(event).encode())
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise SystemExit(f"the trigger failed: {payload.get('errorType')}: {payload.get('errorMessage')}")
    return payload


def wait_for(sfn, execution_arn: str, timeout: int, progress=None) -> dict:
    """Waits for the execution to end; `progress` (a file) gets a line each time a kind's counts change."""
    deadline = time.monotonic() + timeout
    seen = {}
    while True:
        execution = sfn.describe_execution(executionArn=execution_arn)
        if progress:
            seen = report_progress(sfn, execution_arn, seen, progress)
        if execution["status"] in FINAL:
            return execution
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout} s: {execution_arn} is still {execution['status']}")
        time.sleep(1)


def report_progress(sfn, execution_arn: str, seen: dict, out) -> dict:
    """Prints each kind's progress (its Distributed Map's Map Run counts) when it changed since `seen`."""
    for run in sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]:
        counts = sfn.describe_map_run(mapRunArn=run["mapRunArn"])["itemCounts"]
        line = (
            f"{counts['succeeded']} succeeded, {counts['failed']} failed, {counts['running']} running"
            f" of {counts['total']}"
        )
        if seen.get(run["mapRunArn"]) != line:
            seen[run["mapRunArn"]] = line
            # The Distributed Map's Label names the kind (its Map Run's state machine: <machine>/<label>).
            print(f"  {run['stateMachineArn'].rsplit('/', 1)[-1]:<4} {line}", file=out, flush=True)
    return seen


def summarize(sfn, started: dict, execution: dict) -> dict:
    """The run report: the execution's output (or, when a target failed, the Report state's) says where the
    full report is in the stack's bucket; that holds every target's result."""
    output = json.loads(execution.get("output") or "null") or summarize_state_output(sfn, execution["executionArn"])
    report = full_report(output) if output else {}
    seconds = (execution["stopDate"] - execution["startDate"]).total_seconds()
    return {
        "execution": execution["executionArn"],
        "status": execution["status"],
        "dryRun": bool(report.get("dryRun")),
        "seconds": round(seconds, 1),
        "error": execution.get("error"),
        "cause": execution.get("cause"),
        "skipped": report.get("skipped", started.get("skipped", [])),
        "withoutRecentBackup": report.get("withoutRecentBackup", []),
        "disappeared": report.get("disappeared", []),
        "targetDropPercent": report.get("targetDropPercent", 0),
        "targets": [t for kind in ("fsx", "ec2", "efs") for t in report.get(kind, [])],
        "orphans": report.get("orphans", []),
        "orphanSearchFailures": report.get("orphanSearchFailures", []),
        "failedTargets": [f["targetId"] for f in report.get("failedTargets", [])],
        "totals": report.get("totals", {}),
        "report": output.get("report") if output else None,
    }


def full_report(output: dict) -> dict:
    """The run's full report, from the bucket the execution's output names."""
    location = output["report"]
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
    return json.loads(s3.get_object(Bucket=location["bucket"], Key=location["key"])["Body"].read())


def summarize_state_output(sfn, execution_arn: str):
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn, reverseOrder=True)
    for page in pages:
        for event in page["events"]:
            exited = event.get("stateExitedEventDetails")
            if exited and exited["name"] == "Report":
                return json.loads(exited["output"])
    return None


def table(summary: dict) -> list:
    """One row per target: what was created, deleted, kept, failed."""
    rows = [("kind", "target", "created", "deleted" if not summary["dryRun"] else "to delete", "kept", "result")]
    for target in summary["targets"]:
        cleanup = target.get("cleanup") or {}
        counts = cleanup.get("counts") or {}
        created = len(target.get("created") or [])
        rows.append(
            (
                target["kind"],
                target["targetId"],
                str(created) if created or not target.get("error") else "-",
                str(counts.get("deleted", len(cleanup.get("deleted", [])))),
                str(counts.get("kept", len(cleanup.get("kept", [])))),
                target.get("error") or ("ok" if not counts.get("failed") else f"{counts['failed']} deletes failed"),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def render(summary: dict) -> str:
    lines = [f"{summary['execution'].split(':')[-1]}: {summary['status']} in {summary['seconds']} s"]
    if summary["targets"]:
        lines += table(summary) + [""]
    delete = "would delete" if summary["dryRun"] else "deleted"
    for target in summary["targets"]:
        lines.append(f"  {target['kind']} {target['targetId']}")
        if target.get("error"):
            lines.append(f"    FAILED {target['error']}: {target.get('cause')}")
            if target.get("created"):
                lines.append(f"    its backup was made: {', '.join(target['created'])}")
            continue
        created = target.get("created") or []
        lines.append(f"    created {', '.join(created) if created else 'nothing (dry run)'}")
        if target.get("retries"):
            lines.append(f"    after {target['retries']} failed run(s), retried")
        cleanup = target.get("cleanup") or {}
        if cleanup.get("adopted"):
            lines.append(f"    adopted {len(cleanup['adopted'])} backup(s) of the original sample")
        policy = cleanup.get("policy")
        if policy:
            lines.append(f"    policy {policy['policy']} ({policy['source']}, {policy['timeZone']})")
        for backup in cleanup.get("deleted", []):
            lines.append(f"    {delete} {backup}")
        for kept in cleanup.get("kept", []):
            lines.append(f"    kept {kept['id']} ({kept['reason']})")
        for failed in cleanup.get("failed", []):
            lines.append(f"    FAILED to delete {failed['id']}: {failed['error']}")
        if cleanup.get("truncated"):
            lines.append("    (lists cut at 100 ids each; the counts are whole, the cleanup's log has every id)")
        copied = target.get("copy")
        if copied:
            region, copies = copied["region"], copied.get("copyIds") or []
            lines.append(f"    copied to {region}: {', '.join(copies) if copies else 'nothing (dry run)'}")
            there = copied.get("cleanup") or {}
            for backup in there.get("deleted", []):
                lines.append(f"    {delete} {backup} in {region}")
            for kept in there.get("kept", []):
                lines.append(f"    kept {kept['id']} in {region} ({kept['reason']})")
    for skipped in summary["skipped"]:
        lines.append(f"  skipped {skipped['id']}: {skipped['reason']}")
    for orphan in summary["orphans"]:
        cleanup = orphan.get("cleanup") or {}
        ages = cleanup.get("ages") or {}
        where = f" in {orphan['region']}" if orphan.get("region") else ""
        lines.append(
            f"  ORPHAN {orphan['kind']} {orphan['targetId']}{where} (no longer a target):"
            f" {ages.get('backups', 0)} backup(s) of ours, {ages.get('newestDays', '-')} to"
            f" {ages.get('oldestDays', '-')} days old"
        )
        if orphan.get("error"):
            lines.append(f"    FAILED {orphan['error']}: {orphan.get('cause')}")
        verb = "would delete" if cleanup.get("dryRun") else "deleted"
        for backup in cleanup.get("deleted", []):
            lines.append(f"    {verb} {backup}")
    for failure in summary.get("orphanSearchFailures", []):
        where = f" in {failure['region']}" if failure.get("region") else ""
        lines.append(f"  ORPHAN SEARCH FAILED {failure['kind']}{where}: {failure['error']}")
    for stale in summary["withoutRecentBackup"]:
        hours = stale["hoursWithoutBackup"]
        lines.append(f"  NO RECENT BACKUP {stale['kind']} {stale['targetId']}: none completed in {hours} hours")
    if not summary["targets"] and not summary["skipped"]:
        lines.append("  no tagged targets: nothing to do")
    totals = summary["totals"]
    if totals:
        created = "would create" if summary["dryRun"] else "created"
        lines.append(
            f"  {totals['targets']} target(s), {totals['failedTargets']} failed; {created} {totals['created']} "
            f"backup(s), {delete} {totals['deleted']}, kept {totals['kept']},"
            f" failed to delete {totals['failedDeletes']}"
        )
    copies = (totals or {}).get("copies")
    if copies:
        copied = "would copy" if summary["dryRun"] else "copied"
        lines.append(
            f"  copy Region: {copied} {copies['copied']} backup(s), {delete} {copies['deleted']},"
            f" kept {copies['kept']}, failed to delete {copies['failedDeletes']}"
        )
    if summary["report"]:
        lines.append(f"  full report: s3://{summary['report']['bucket']}/{summary['report']['key']}")
    if summary["status"] != "SUCCEEDED":
        lines.append(f"  {summary['error']}: {summary['cause']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
