#!/usr/bin/env python3
"""Benchmarks snapmgmt on the local stack and writes BENCHMARKS.md; every figure is measured in this run.

Run it with `make bench` (which builds the release binaries and the arm64 zips, then starts the local stack).
It measures, for the release build of each function: cold start (process start to the first invocation
handled, through a Lambda Runtime API served here) and peak RSS; the size of each arm64 deployment zip;
the trigger over 5,000 tagged instances and 500 file systems; cleanup of one instance with 10,000 snapshots
(9,000 expired) and of one file system with 2,000 backups (1,800 expired), against the original sample's way
of cleaning up; the Step Functions state transitions each kind of target costs per run; and the whole workflow
over fleets of 10 to 10,000 targets (the parent execution's history and payloads, the largest child's, wall
time). API calls are counted by the fault proxy between the functions and the emulator.
"""

import argparse
import collections
import concurrent.futures
import contextlib
import datetime
import http.server
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import threading
import time

import botocore.config
import deploy
import iam_template
import stack
import workflow

ROOT = pathlib.Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "release"
FUNCTIONS = ["trigger", "check-in-progress", "backup-fsx", "snapshot-ebs", "cleanup", "efs-backup", "report", "verify"]
# Fleets the whole workflow is run over, to show the parent execution's figures stay flat as the fleet grows.
FLEET_SIZES = (10, 100, 1000, 10000)
# Step Functions' quota on one execution's history.
HISTORY_QUOTA = 25_000
DAY = 86_400
KIB = 1024
# The original's unpaged listing makes the emulator render every snapshot in one answer: minutes at 10,000.
SLOW_ANSWERS = botocore.config.Config(read_timeout=900, retries={"total_max_attempts": 1})


class RuntimeApi:
    """The Lambda Runtime API, as much of it as one invocation needs: hands out one event, takes the answer."""

    def __init__(self, event):
        self.event = json.dumps(event).encode()
        self.next_at = self.done_at = None
        self.answer = None
        self.done = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - the http.server API
                if api.next_at is not None:  # the second /next: the invocation is over, hold the process
                    time.sleep(30)
                    return
                api.next_at = time.perf_counter()
                self.send_response(200)
                deadline = int((time.time() + 900) * 1000)
                for name, value in (
                    ("Lambda-Runtime-Aws-Request-Id", "bench-request"),
                    ("Lambda-Runtime-Deadline-Ms", str(deadline)),
                    ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:bench"),
                    ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                    ("Content-Length", str(len(api.event))),
                ):
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(api.event)

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                api.done_at = time.perf_counter()
                api.answer = {"path": self.path, "body": json.loads(body or b"null")}
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                api.done.set()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self):
        return f"127.0.0.1:{self.server.server_address[1]}"


def invoke_release(function, event, settings, timeout=900):
    """Starts the release binary fresh, hands it one event; times and peak RSS of that first invocation."""
    api = RuntimeApi(event)
    env = dict(
        os.environ,
        AWS_LAMBDA_RUNTIME_API=api.address,
        AWS_LAMBDA_FUNCTION_NAME=function,
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_LOG_STREAM_NAME="bench",
        AWS_LAMBDA_LOG_GROUP_NAME="bench",
        AWS_ENDPOINT_URL=os.environ["SNAPMGMT_FAULT_PROXY"],
        # Its role's credentials, as Lambda gives them: the emulator enforces that role's policy.
        AWS_ACCESS_KEY_ID=iam_template.access_key(function),
        **settings,
    )
    log = open(ROOT / "local" / ".state" / f"bench-{function}.log", "ab")
    started = time.perf_counter()
    process = subprocess.Popen([str(RELEASE / function)], env=env, stdout=log, stderr=log)
    try:
        if not api.done.wait(timeout):
            raise SystemExit(f"{function} answered nothing within {timeout} s")
        peak_kib = peak_rss_kib(process.pid)
    finally:
        process.kill()
        process.wait()
        api.server.shutdown()
    if not api.answer["path"].endswith("/response"):
        raise SystemExit(f"{function} failed: {api.answer}")
    return {
        "cold_ms": (api.done_at - started) * 1000,
        "init_ms": (api.next_at - started) * 1000,
        "handler_ms": (api.done_at - api.next_at) * 1000,
        "peak_rss_mib": peak_kib / KIB,
        "answer": api.answer["body"],
    }


def peak_rss_kib(pid):
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def settings(state_machine_arn):
    return {
        "RETENTION_DAYS": "7",
        "MIN_KEEP": "1",
        "MAX_DELETE_PERCENT": "100",  # the benchmark's cleanups delete 90%: the guard is raised, as an operator would
        # One catch-up cleanup alone, with the whole of EC2's budget: its deletes paced to EC2's own bucket.
        "EC2_API_SHARE": "100",
        "EC2_CONCURRENCY": "1",
        "STATE_MACHINE_ARN": state_machine_arn,
        "INVENTORY_BUCKET": deploy.INVENTORY_BUCKET,
        "SNAPSHOT_MODE": "direct",
        "BACKUP_VAULT_NAME": "snapmgmt-vault",
        "BACKUP_ROLE_ARN": "arn:aws:iam::123456789012:role/snapmgmt-local-backup",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
    }


@contextlib.contextmanager
def trigger_unchecked():
    """The trigger's benchmarks start a no-op state machine that template.yaml does not name: its policy
    refuses that StartExecution, so they run the trigger without IAM enforcement, then restore it."""
    principals = deploy.principals()
    trigger = principals["functions"]["trigger"]
    keys = {key: role for key, role in principals["accessKeys"].items() if role != trigger}
    stack.control("/moto-api/snapmgmt/iam/principals", {**principals, "accessKeys": keys})
    try:
        yield
    finally:
        stack.control("/moto-api/snapmgmt/iam/principals", principals)


def bench_state_machine():
    """A state machine that does nothing, for the trigger to start: the benchmark times the trigger only."""
    sfn = stack.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    return sfn.create_state_machine(
        name=f"snapmgmt-bench-{time.time_ns()}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/snapmgmt-bench",
    )["stateMachineArn"]


def calls():
    faults = stack.faults()
    return sum(faults["requests"].values()), faults["requests"]


def cold_starts(env, runs):
    """Each function started `runs` times on an event it handles with a real AWS call."""
    fsx, ec2, efs = stack.client("fsx"), stack.client("ec2"), stack.client("efs")
    fs = stack.create_file_system(fsx)
    stack.create_backup(fsx, fs, 1, ours=True)  # a backup of ours for the cleanup to judge
    instance = stack.create_instance(ec2, tagged=False)
    efs_id = stack.create_efs(efs, tagged=False)["FileSystemId"]
    s3 = stack.client("s3")
    results = {}
    for kind in ("fsx", "ec2", "efs"):  # an empty Map Run's results, as the ResultWriter writes them
        key = f"results/bench-{kind}/manifest.json"
        manifest = {"DestinationBucket": deploy.INVENTORY_BUCKET, "MapRunArn": "bench", "ResultFiles": {}}
        s3.put_object(Bucket=deploy.INVENTORY_BUCKET, Key=key, Body=json.dumps(manifest))
        results[kind] = {"bucket": deploy.INVENTORY_BUCKET, "key": key}
    events = {
        "trigger": {"dryRun": True},
        "check-in-progress": {"kind": "fsx", "fileSystemId": fs},
        "backup-fsx": {"fileSystemId": fs, "dryRun": True},
        "snapshot-ebs": {"instanceId": instance, "dryRun": True},
        "cleanup": {"kind": "fsx", "fileSystemId": fs, "dryRun": True},
        "efs-backup": {"action": "start", "fileSystemId": efs_id, "dryRun": True},
        "report": {"runId": "bench", "dryRun": True, "results": results},
        "verify": {"instanceId": instance, "round": 0},
    }
    rows = []
    for function in FUNCTIONS:
        samples = [invoke_release(function, events[function], env) for _ in range(runs)]
        rows.append(
            {
                "function": function,
                "init_ms": statistics.median(s["init_ms"] for s in samples),
                "cold_ms": statistics.median(s["cold_ms"] for s in samples),
                "peak_rss_mib": max(s["peak_rss_mib"] for s in samples),
                "binary_mib": (RELEASE / function).stat().st_size / KIB / KIB,
                "zip_mib": zip_size(function),
            }
        )
    return rows


PACKAGE_RECORD = ROOT / "local" / ".state" / "package.json"


def package():
    """`make package`'s record: `sam build` from a clean clone, its time and each function's artifact."""
    return json.loads(PACKAGE_RECORD.read_text()) if PACKAGE_RECORD.exists() else None


def logical_id(function):
    """The function's resource in template.yaml: report -> ReportFunction, check-in-progress -> CheckIn..."""
    return "".join(part.capitalize() for part in function.split("-")) + "Function"


def zip_size(function):
    record = package()
    artifact = record and record["artifacts"].get(logical_id(function))
    return artifact["zip"] / KIB / KIB if artifact else None


def enumeration(env, instances, file_systems):
    fsx, ec2 = stack.client("fsx"), stack.client("ec2")
    seeded = time.perf_counter()
    image = ec2.describe_images()["Images"][0]["ImageId"]
    tags = [{"ResourceType": "instance", "Tags": [stack.TARGET_TAG]}]

    def launch(_):
        # One instance per reservation, as instances launched one by one or by Auto Scaling are: the
        # emulator pages DescribeInstances by reservation (AWS by instance).
        stack.client("ec2").run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=tags)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(launch, range(instances)))
    for _ in range(file_systems):
        stack.create_file_system(fsx)
    seeding = time.perf_counter() - seeded
    stack.set_faults([])
    with ec2_buckets() as refused:
        result = invoke_release("trigger", {"time": "2026-11-26T02:00:00Z"}, env)
    total, by_operation = calls()
    execution = stack.client("stepfunctions").describe_execution(executionArn=result["answer"]["executionArn"])
    return {
        "instances": result["answer"]["ec2Targets"],
        "file_systems": result["answer"]["fsxTargets"],
        "handler_s": result["handler_ms"] / 1000,
        "calls": total,
        "by_operation": by_operation,
        "input_kib": len(execution["input"].encode()) / KIB,
        "peak_rss_mib": result["peak_rss_mib"],
        "seeding_s": seeding,
        "refused": refused,
    }


# The run that made the newest backup, which cleanup is told is this run's (it must be).
NEWEST_RUN = "bench-newest"


def ebs_inventory(sets, expired_sets, volumes):
    """One instance with `volumes` volumes and `sets` nightly snapshot sets of ours, the oldest
    `expired_sets` past the retention; returns the instance and the newest set (this run's)."""
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, tagged=False, volumes=volumes)
    mappings = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]
    volume_ids = [m["Ebs"]["VolumeId"] for m in mappings]
    now = time.time()
    specs = []
    for n in range(sets):
        age = 30 + n if n < expired_sets else (sets - 1 - n) / 24  # young sets: hours old, the last one now
        run = NEWEST_RUN if n == sets - 1 else f"run-{n:05d}"
        run_tags = {"ManagedBy": "snapmgmt", "snapmgmt:TargetId": instance, "snapmgmt:RunId": run}
        specs += [{"volumeId": v, "tags": run_tags, "startTime": now - age * DAY} for v in volume_ids]
    ids = []
    for chunk in range(0, len(specs), 1000):
        ids += stack.control("/moto-api/snapmgmt/ec2/bulk-snapshots", {"snapshots": specs[chunk : chunk + 1000]})[
            "snapshotIds"
        ]
    return instance, ids[-len(volume_ids) :]


def fsx_inventory(backups, expired):
    fsx = stack.client("fsx")
    fs = stack.create_file_system(fsx, tagged=False)
    now = time.time()
    tags = {"ManagedBy": "snapmgmt", "snapmgmt:TargetId": fs, "snapmgmt:RunId": NEWEST_RUN}
    specs = [
        {"tags": tags, "creationTime": now - (30 + n if n < expired else (backups - 1 - n) / 24) * DAY}
        for n in range(backups)
    ]
    ids = []
    for chunk in range(0, len(specs), 1000):
        body = {"fileSystemId": fs, "backups": specs[chunk : chunk + 1000]}
        ids += stack.control("/moto-api/snapmgmt/fsx/bulk-backups", body)["backupIds"]
    return fs, ids[-1]


@contextlib.contextmanager
def ec2_buckets():
    """EC2's request buckets at AWS's sizes held by the emulator (moto_ext/throttle.py) for the functions'
    calls; yields a dict whose "refused" counts, by action, the RequestLimitExceeded they met (set on exit)."""
    refused = {}
    # The emulator keeps every refusal until it is reset: only those from here on are this measurement's.
    before = len(stack.control("/moto-api/snapmgmt/ec2/throttle", {"scale": 1})["refusals"])
    try:
        yield refused
        refusals = stack.control_get("/moto-api/snapmgmt/ec2/throttle")["refusals"][before:]
        refused.update(collections.Counter(r["action"] for r in refusals))
    finally:
        stack.control("/moto-api/snapmgmt/ec2/throttle", {"scale": None})


def fmt_refused(refused):
    return ", ".join(f"{action} {n}" for action, n in sorted(refused.items())) if refused else "none"


def snapmgmt_cleanup(env, event):
    """One cleanup invocation of the release binary. EBS runs with EC2's request buckets on: the refusals it
    met say whether its pace kept inside them."""
    stack.set_faults([])
    ebs = event["kind"] == "ec2"
    with ec2_buckets() if ebs else contextlib.nullcontext({}) as refused:
        result = invoke_release("cleanup", event, env)
    total, by_operation = calls()
    counts = result["answer"]["counts"]
    return {
        "handler_s": result["handler_ms"] / 1000,
        "deleted": counts["deleted"],
        "failed": counts["failed"],
        "calls": total,
        "by_operation": by_operation,
        "peak_rss_mib": result["peak_rss_mib"],
        "throttled": sum(refused.values()) if ebs else None,
    }


def cleanups(args, scale, env):
    """The EBS and FSx cleanups, snapmgmt's and the original sample's way, on identical inventories."""
    # EBS: 900 deletes, past EC2's burst of 200 DeleteSnapshot calls, so the pace after it shows.
    sizes = {
        "snapshots": scale(100) * 10,
        "expired_snapshots": scale(90) * 10,
        "backups": scale(2000),
        "expired_backups": scale(1800),
    }
    instance, newest = ebs_inventory(scale(100), scale(90), 10)
    ebs = snapmgmt_cleanup(env, {"kind": "ec2", "instanceId": instance, "newSnapshotIds": newest, "runId": NEWEST_RUN})
    baseline_instance, _ = ebs_inventory(scale(100), scale(90), 10)
    ebs_base = original_ebs(baseline_instance, args.baseline_sample)
    fs, new = fsx_inventory(scale(2000), scale(1800))
    fsx = snapmgmt_cleanup(env, {"kind": "fsx", "fileSystemId": fs, "newBackupId": new, "runId": NEWEST_RUN})
    baseline_fs, _ = fsx_inventory(scale(2000), scale(1800))
    fsx_base = original_fsx(baseline_fs, args.baseline_sample)
    return sizes, ebs, ebs_base, fsx, fsx_base


def original_way(list_expired, delete, sample):
    """The original sample's cleanup: list, then delete one at a time with a 1 s sleep after each. The
    listing is timed in full; the deletes on the first `sample`, and the rest estimated from them."""
    listed = time.perf_counter()
    expired = list_expired()
    list_s = time.perf_counter() - listed
    started = time.perf_counter()
    for snapshot_id in expired[:sample]:
        delete(snapshot_id)
        time.sleep(1)
    per_delete = (time.perf_counter() - started) / min(sample, len(expired))
    return {
        "expired": len(expired),
        "list_s": list_s,
        "per_delete_s": per_delete,
        "estimated_s": list_s + per_delete * len(expired),
        "sample": sample,
    }


def original_ebs(instance, sample):
    ec2 = stack.client("ec2", os.environ["SNAPMGMT_FAULT_PROXY"], SLOW_ANSWERS)
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=7)

    def list_expired():
        # As the original: filtered by tags only (no OwnerIds), every snapshot described.
        filters = [{"Name": "tag:snapmgmt:TargetId", "Values": [instance]}]
        pages = ec2.get_paginator("describe_snapshots").paginate(Filters=filters)
        return [s["SnapshotId"] for p in pages for s in p["Snapshots"] if s["StartTime"] < cutoff]

    return original_way(list_expired, lambda i: ec2.delete_snapshot(SnapshotId=i), sample)


def original_fsx(fs, sample):
    fsx = stack.client("fsx", os.environ["SNAPMGMT_FAULT_PROXY"], SLOW_ANSWERS)
    cutoff = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=7)

    def list_expired():
        # As the original: every user-initiated backup in the region, filtered on the client.
        pages = fsx.get_paginator("describe_backups").paginate(
            Filters=[{"Name": "backup-type", "Values": ["USER_INITIATED"]}]
        )
        return [
            b["BackupId"]
            for p in pages
            for b in p["Backups"]
            if b["FileSystem"]["FileSystemId"] == fs and b["CreationTime"] < cutoff
        ]

    return original_way(list_expired, lambda i: fsx.delete_backup(BackupId=i), sample)


def states_entered(execution_arn):
    """States entered by the execution and by its Distributed Maps' child executions."""
    sfn = stack.client("stepfunctions")
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
    parent = sum(1 for p in pages for e in p["events"] if e["type"].endswith("StateEntered"))
    runs = stack.control_get(f"/moto-api/snapmgmt/sfn/map-runs?executionArn={execution_arn}")["mapRuns"]
    return parent + sum(len(c["statesEntered"]) for kids in runs.values() for c in kids)


def run_workflow(timeout=300):
    """One scheduled run through the trigger (served by cargo lambda watch); its execution, when it ended."""
    event = workflow.scheduled_event(False, 1)
    event["time"] = None
    started = workflow.invoke(stack.client("lambda", os.environ["AWS_ENDPOINT_URL_LAMBDA"]), "trigger", event)
    sfn = stack.client("stepfunctions")
    return started, workflow.wait_for(sfn, started["executionArn"], timeout)


def fresh_stack():
    stack.set_faults([])
    stack.control("/moto-api/reset", {})
    deploy.deploy()


def transitions():
    """State transitions (states entered) of one scheduled run per kind of target, less a run's fixed ones."""

    def run_once():
        _, execution = run_workflow()
        return states_entered(execution["executionArn"])

    fsx, ec2, efs = stack.client("fsx"), stack.client("ec2"), stack.client("efs")
    fresh_stack()
    fixed = run_once()
    counts = {}
    for kind, make in (
        ("FSx file system", lambda: stack.create_backup(fsx, stack.create_file_system(fsx), 20, ours=True)),
        ("EC2 instance (direct mode)", lambda: stack.create_instance(ec2, mode="direct")),
        ("EC2 instance (ssm mode)", lambda: stack.create_instance(ec2, mode="ssm")),
        ("EFS file system", lambda: stack.create_efs(efs)),
    ):
        fresh_stack()
        make()
        counts[kind] = run_once() - fixed
    return fixed, counts


def launch_fleet(count):
    """`count` direct-mode target instances of one volume each, 500 to a launch."""
    ec2 = stack.client("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    tags = [stack.TARGET_TAG, {"Key": "snapmgmt:SnapshotMode", "Value": "direct"}]
    launched = 0
    while launched < count:
        n = min(500, count - launched)
        ec2.run_instances(
            ImageId=image,
            MinCount=n,
            MaxCount=n,
            BlockDeviceMappings=[{"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 8}}],
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
        launched += n


def largest_payload(events):
    sizes = [0]
    for event in events:
        for details in event.values():
            if isinstance(details, dict):
                sizes += [len(details[k].encode()) for k in ("input", "output") if isinstance(details.get(k), str)]
    return max(sizes)


def fleet_run(n, env):
    """The whole workflow over `n` targets (2% FSx, 2% EFS, the rest direct-mode instances)."""
    fresh_stack()
    file_systems = max(1, n // 50)
    instances = n - 2 * file_systems
    launch_fleet(instances)
    fsx, efs = stack.client("fsx"), stack.client("efs")
    for _ in range(file_systems):
        stack.create_file_system(fsx)
        stack.create_efs(efs)
    started_at = time.perf_counter()
    # After the seeding and fresh_stack(): moto's reset turns the buckets off, and they hold the functions only.
    with ec2_buckets() as refused:
        started, execution = run_workflow(timeout=4 * 3600)
    wall = time.perf_counter() - started_at
    sfn = stack.client("stepfunctions")
    summary = workflow.summarize(sfn, started, execution)
    assert summary["status"] == "SUCCEEDED" and summary["totals"]["targets"] == n, (summary["status"], n)
    assert summary["totals"]["created"] == n and summary["totals"]["failedTargets"] == 0, summary["totals"]
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution["executionArn"])
    events = [e for p in pages for e in p["events"]]
    runs = stack.control_get(f"/moto-api/snapmgmt/sfn/map-runs?executionArn={execution['executionArn']}")
    children = [c for kids in runs["mapRuns"].values() for c in kids]
    s3 = stack.client("s3")
    result_bytes = 0
    report_input = next(
        json.loads(e["taskScheduledEventDetails"]["parameters"])["Payload"]
        for e in events
        if e.get("taskScheduledEventDetails") and "report" in e["taskScheduledEventDetails"]["parameters"]
    )
    for location in report_input["results"].values():
        manifest = json.loads(s3.get_object(Bucket=location["bucket"], Key=location["key"])["Body"].read())
        result_bytes += sum(f["Size"] for files in manifest["ResultFiles"].values() for f in files)
    report_object = s3.head_object(Bucket=summary["report"]["bucket"], Key=summary["report"]["key"])
    row = {
        "targets": n,
        "wall_s": wall,
        "parent_events": len(events),
        "parent_payload": largest_payload(events),
        "child_events": max(c["historyEvents"] for c in children),
        "child_payload": max(c["largestPayload"] for c in children),
        "transitions_per_target": states_entered(execution["executionArn"]) / n,
        "result_bytes_per_target": result_bytes / n,
        "report_bytes_per_target": report_object["ContentLength"] / n,
        "report_input": report_input,
        "refused": refused,
    }
    row["report_release"] = invoke_release("report", report_input, env)
    row["plan"] = cli_plan(n)
    print(f"  {n} targets: {wall:.0f} s, parent {len(events)} events, throttled {fmt_refused(refused)}", flush=True)
    return row


def peak_rss_run(command, env, stdout):
    """Runs the command to its end; its exit code, wall time and peak RSS (MiB). The peak is GNU time's: a
    child's own rusage counts the pages it shares with the benchmark's Python between fork and exec."""
    record = ROOT / "local" / ".state" / "bench-time.txt"
    started = time.perf_counter()
    code = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(record), *command], env=env, stdout=stdout).returncode
    wall = time.perf_counter() - started
    return code, wall, int(record.read_text().split()[-1]) / KIB


def cli_plan(n):
    """The release `snapmgmt plan` over the fleet just backed up, as the stack's operator (its read-only policy
    enforced) with EC2's request buckets at AWS's sizes: its time, peak memory and calls."""
    env = {
        "PATH": os.environ["PATH"],
        "AWS_ENDPOINT_URL": os.environ["SNAPMGMT_FAULT_PROXY"],
        "AWS_REGION": stack.REGION,
        "AWS_ACCESS_KEY_ID": iam_template.operator_key(),
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    stack.set_faults([])
    out = ROOT / "local" / ".state" / f"bench-plan-{n}.json"
    with ec2_buckets() as refused, open(out, "w") as stdout:
        code, wall, peak_mib = peak_rss_run([str(RELEASE / "snapmgmt"), "--json", "plan"], env, stdout)
    total, by_operation = calls()
    plan = json.loads(out.read_text())
    assert code == 0 and plan["totals"]["targets"] == n, (code, plan["totals"])
    print(f"  plan over {n} targets: {wall:.1f} s, {total} calls, {peak_mib:.1f} MiB", flush=True)
    return {
        "targets": n,
        "wall_s": wall,
        "peak_rss_mib": peak_mib,
        "calls": total,
        "by_operation": by_operation,
        "refused": refused,
        "totals": plan["totals"],
    }


def plan_at_scale(n):
    """`snapmgmt plan` over `n` target instances with one set of ours each, seeded (no run)."""
    fresh_stack()
    launch_fleet(n)
    ec2 = stack.client("ec2")
    specs = []
    for page in ec2.get_paginator("describe_instances").paginate():
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                tags = {"ManagedBy": "snapmgmt", "snapmgmt:TargetId": instance["InstanceId"]}
                tags.update({"snapmgmt:RunId": "bench", "snapmgmt:Stack": stack.STACK_ID})
                for mapping in instance["BlockDeviceMappings"]:
                    specs.append({"volumeId": mapping["Ebs"]["VolumeId"], "tags": tags, "startTime": time.time() - DAY})
    for chunk in range(0, len(specs), 1000):
        stack.control("/moto-api/snapmgmt/ec2/bulk-snapshots", {"snapshots": specs[chunk : chunk + 1000]})
    return cli_plan(n)


def render_plan_at_scale(plan):
    return [
        f"## The command line's `plan` over {plan['targets']:,} targets",
        "",
        "| targets | `snapmgmt plan` | peak RSS | API calls | EC2 RequestLimitExceeded (retried) | to keep |",
        "|---|---|---|---|---|---|",
        f"| {plan['targets']:,} | {plan['wall_s']:.1f} s | {plan['peak_rss_mib']:.1f} MiB | {plan['calls']:,} "
        f"({fmt_ops(plan['by_operation'])}) | {fmt_refused(plan['refused'])} | {plan['totals']['toKeep']:,} |",
        "",
        f"How: {plan['targets']:,} direct-mode target instances (one volume each) with one completed snapshot set "
        "of ours each, seeded through the emulator (no run), then the release `snapmgmt --json plan` as the "
        "stack's operator (its read-only policy enforced) with EC2's request buckets at AWS's sizes: the trigger's "
        "listing, then each target's backups judged (8 at once). Peak RSS by GNU time.",
        "",
    ]


def report_at_scale(env, small, big):
    """The release report function over the smallest and the largest fleet's results (each measured right after
    its run, before the emulator is reset): its time and peak memory per extra target (the slope between the two,
    so that the process's own baseline is not counted per target)."""
    runs = [small["report_release"], big["report_release"]]
    extra = max(1, big["targets"] - small["targets"])
    return {
        "targets": big["targets"],
        "handler_s": runs[1]["handler_ms"] / 1000,
        "peak_rss_mib": runs[1]["peak_rss_mib"],
        "s_per_target": (runs[1]["handler_ms"] - runs[0]["handler_ms"]) / 1000 / extra,
        "mib_per_target": (runs[1]["peak_rss_mib"] - runs[0]["peak_rss_mib"]) / extra,
        "base_mib": runs[0]["peak_rss_mib"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="cold starts per function (median reported)")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the inventories (e.g. 0.1) for a quick look")
    parser.add_argument("--baseline-sample", type=int, default=30, help="deletes timed the original sample's way")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    parser.add_argument(
        "--fleets", default=",".join(map(str, FLEET_SIZES)), help="fleet sizes the workflow is run over (comma list)"
    )
    parser.add_argument(
        "--only",
        help="measure only these sections (cold, enumeration, cleanup, transitions, fleets, plan, verification, "
        "package; "
        "comma list) and "
        "replace them in --out",
    )
    args = parser.parse_args()
    scale = lambda n: max(1, int(n * args.scale))  # noqa: E731
    if args.only:
        return measure_only(args, scale)

    env = settings(bench_state_machine())
    with trigger_unchecked():
        print("cold starts ...", flush=True)
        starts = cold_starts(env, args.runs)
        print("enumeration ...", flush=True)
        enum = enumeration(env, scale(5000), scale(500))
    print("EBS and FSx cleanup ...", flush=True)
    args.sizes, ebs, ebs_base, fsx, fsx_base = cleanups(args, scale, env)
    print("state transitions ...", flush=True)
    fixed, per_target = transitions()
    print("verification ...", flush=True)
    verified = verification(env)
    print("fleets ...", flush=True)
    fleets = [fleet_run(int(n), env) for n in args.fleets.split(",")]
    report_run = report_at_scale(env, fleets[0], fleets[-1])

    report = render(args, starts, enum, ebs, ebs_base, fsx, fsx_base, fixed, per_target, fleets, report_run)
    report += "\n" + "\n".join(render_verification(verified))
    out = pathlib.Path(args.out)
    report = keep_test_suite_section(report, out.read_text() if out.exists() else "")
    out.write_text(report)
    print(report)


TEST_SUITE_HEADING = "## Test suite"


def keep_test_suite_section(report: str, old: str) -> str:
    """The test suite's section is measured by `make test` (local/phase.sh), not here: a full run keeps it."""
    start = old.find(TEST_SUITE_HEADING)
    if start < 0:
        return report
    end = old.find("\n## ", start + 1)
    section = old[start:] if end < 0 else old[start : end + 1]
    return report.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n"


def measure_only(args, scale):
    """Measures the named sections and puts them in place of their old text in --out (the rest stays)."""
    parts = set(args.only.split(","))
    sections = []
    if "cold" in parts:
        print("cold starts ...", flush=True)
        with trigger_unchecked():
            sections.append(render_cold(args.runs, cold_starts(settings(bench_state_machine()), args.runs)))
    if "enumeration" in parts:
        print("enumeration ...", flush=True)
        with trigger_unchecked():
            sections.append(render_enumeration(enumeration(settings(bench_state_machine()), scale(5000), scale(500))))
    if "cleanup" in parts:
        print("EBS and FSx cleanup ...", flush=True)
        sizes, ebs, ebs_base, fsx, fsx_base = cleanups(args, scale, settings(bench_state_machine()))
        sections.append(render_cleanup(sizes, ebs, ebs_base, fsx, fsx_base))
    if "transitions" in parts:
        print("state transitions ...", flush=True)
        sections.append(render_transitions(*transitions()))
    if "fleets" in parts:
        print("fleets ...", flush=True)
        env = settings("arn:aws:states:us-east-1:123456789012:stateMachine:unused")
        fleets = [fleet_run(int(n), env) for n in args.fleets.split(",")]
        sections.append(render_fleets(fleets, report_at_scale(env, fleets[0], fleets[-1])))
    if "plan" in parts:
        print("plan ...", flush=True)
        sections.append(render_plan_at_scale(plan_at_scale(int(args.fleets.split(",")[-1]))))
    if "verification" in parts:
        print("verification ...", flush=True)
        sections.append(render_verification(verification(settings(bench_state_machine()))))
    if "package" in parts:
        sections.append(render_package(package()))
    note = f"Measured on {datetime.date.today()} by `local/bench.py --only {args.only}`; the other sections are older."
    out = pathlib.Path(args.out)
    text = splice(out.read_text() if out.exists() else "# snapmgmt benchmarks\n", sections, note)
    out.write_text(text)
    print(text)


def splice(text, sections, note):
    """The document with each section (a list of lines headed `## ...`) in place of its namesake, or appended."""
    blocks = [[]]
    for line in text.rstrip("\n").split("\n"):
        if line.startswith("## "):
            blocks.append([])
        blocks[-1].append(line)
    # A renderer may give several sections at once (the fleets give the plan's too): each replaces its namesake.
    parts = []
    for section in sections:
        for line in section:
            if line.startswith("## ") or not parts:
                parts.append([])
            parts[-1].append(line)
    for section in parts:
        new = [section[0], "", note, *section[1:]]
        for n, block in enumerate(blocks):
            if block and block[0].split(":")[0] == section[0].split(":")[0]:
                blocks[n] = new
                break
        else:
            blocks.append(new)
    return "\n".join(line for block in blocks for line in block).rstrip("\n") + "\n"


def render(args, starts, enum, ebs, ebs_base, fsx, fsx_base, fixed, per_target, fleets, report_run):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    lines = [
        "# snapmgmt benchmarks",
        "",
        f"Written by `make bench` on {datetime.date.today()}: {os.cpu_count()} CPUs ({cpu}), {platform.system()} "
        f"{platform.machine()}; the AWS emulator (moto) and the functions on this one machine. Every figure below "
        "was measured in that run; how, under each table.",
        "",
    ]
    lines += render_cold(args.runs, starts)
    lines += render_enumeration(enum)
    lines += render_cleanup(args.sizes, ebs, ebs_base, fsx, fsx_base)
    lines += render_transitions(fixed, per_target)
    lines += render_fleets(fleets, report_run)
    lines += render_package(package())
    return "\n".join(lines)


def render_cold(runs, starts):
    def mark(ok):
        return "yes" if ok else "**no**"

    lines = [
        "## Cold start, memory, package size (release build)",
        "",
        "| function | start-up (to first `/next`) | to the first answer (its AWS calls included) | peak RSS | "
        "binary (host) | zip (arm64) |",
        "|---|---|---|---|---|---|",
    ]
    for r in starts:
        zip_mib = f"{r['zip_mib']:.1f} MiB" if r["zip_mib"] is not None else "not built"
        lines.append(
            f"| {r['function']} | {r['init_ms']:.1f} ms | {r['cold_ms']:.1f} ms | {r['peak_rss_mib']:.1f} MiB | "
            f"{r['binary_mib']:.1f} MiB | {zip_mib} |"
        )
    worst_init = max(r["init_ms"] for r in starts)
    worst_rss = max(r["peak_rss_mib"] for r in starts)
    zips = [r["zip_mib"] for r in starts if r["zip_mib"] is not None]
    unbuilt = [r["function"] for r in starts if r["zip_mib"] is None]
    lines += [
        "",
        f"Targets: start-up under 50 ms: {mark(worst_init < 50)} (worst {worst_init:.1f} ms); peak RSS under "
        f"40 MB: {mark(worst_rss < 40)} (worst {worst_rss:.1f} MiB); every zip under 10 MB: "
        f"{mark(bool(zips) and max(zips) < 10)}"
        + (f" (no zip yet for {', '.join(unbuilt)}: `make package` predates it)." if unbuilt else "."),
        "",
        f"How: each function's release binary (`target/release/`, profile: opt-level s, LTO, one codegen unit, "
        f"panic abort, stripped) is started {runs} times as a fresh process against a Lambda Runtime API "
        "served by the benchmark, which hands it one event it handles with real AWS calls to the emulator "
        "(dry runs and checks of seeded resources). Start-up is process start to its first request for an "
        "event (settings read, SDK configured): what Lambda's cold start adds. To the first answer is process "
        "start to its answer: the handler's own calls to the emulator included (the trigger's dry run makes 19, "
        "the report reads and writes the bucket), so it is judged by no target here; medians. Peak RSS "
        "is the process's `VmHWM` after the answer (the largest of the runs). Zips: `cargo lambda build "
        "--release --arm64` as `sam build` runs it (from a clean clone, below), each `bootstrap` zipped as `sam "
        "deploy` uploads it.",
        "",
    ]
    return lines


def render_cleanup(sizes, ebs, ebs_base, fsx, fsx_base):
    lines = [
        "## Cleanup at fleet scale, against the original sample's way",
        "",
        "| cleanup | deleted | snapmgmt | API calls | peak RSS | the original's way (estimated) | faster |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, ours, base in (
        (
            f"EBS: 1 instance, {sizes['snapshots']:,} snapshots ({sizes['expired_snapshots']:,} expired, 10 volumes)",
            ebs,
            ebs_base,
        ),
        (f"FSx: 1 file system, {sizes['backups']:,} backups ({sizes['expired_backups']:,} expired)", fsx, fsx_base),
    ):
        ratio = base["estimated_s"] / ours["handler_s"]
        lines.append(
            f"| {name} | {ours['deleted']} ({ours['failed']} failed) | {ours['handler_s']:.1f} s | {ours['calls']} "
            f"({fmt_ops(ours['by_operation'])}) | {ours['peak_rss_mib']:.1f} MiB | {base['estimated_s']:.0f} s | "
            f"**{ratio:.0f}x** |"
        )
    describes = ebs["by_operation"].get("DescribeSnapshots", 0)
    # EC2's bucket for DeleteSnapshot: 200 at once, then 5 a second (the physical limit of any cleanup).
    beyond_burst = max(0, ebs["deleted"] - 200)
    sustained = beyond_burst / ebs["handler_s"] if ebs["handler_s"] else 0.0
    lines += [
        "",
        f"Targets: EBS deletes as fast as EC2 allows and no faster: past EC2's burst of 200, {beyond_burst} deletes "
        f"at {sustained:.2f} a second (a lower bound: the listing's time is counted), against the bucket's refill "
        f"of 5 a second, with {ebs['throttled']} RequestLimitExceeded from the emulator holding that bucket: "
        f"{mark_flat(sustained >= 4.0 and ebs['throttled'] == 0)}; API calls at most one describe page per 1,000 "
        f"plus one delete per snapshot: {describes} DescribeSnapshots pages for {sizes['snapshots']:,} snapshots and "
        f"{ebs['by_operation'].get('DeleteSnapshot', 0)} "
        f"deletes, plus {ebs['by_operation'].get('DescribeImages', 0)} DescribeImages page (the AMI-in-use check).",
        "",
        "How: snapmgmt is the cleanup function's release binary, one invocation, deletes 4 at a time (adaptive "
        "retry), paced to EC2's bucket (`EC2_API_SHARE=100`, one cleanup alone; a stack's default, 50 % over 50 "
        "cleanups at once, gives each 2 deletes at once and one every 20 s), its time from receiving the event to "
        "answering. The original sample's way is reproduced in "
        "Python (boto3) as its code did it: EBS listed by tag without `OwnerIds`, FSx by listing every "
        "user-initiated backup in the region and filtering on the client; then one delete at a time with a 1 s "
        f"sleep after each. Its listing is timed in full; {ebs_base['sample']} of its deletes are timed "
        f"(EBS {ebs_base['per_delete_s']:.2f} s, FSx {fsx_base['per_delete_s']:.2f} s each, the sleep included) and "
        "the rest estimated from them: a full run would take hours. Both work on identical inventories, seeded "
        "through the emulator's bulk control routes; API calls are counted by the fault proxy (no faults set).",
        "",
    ]
    return lines


def render_enumeration(enum):
    return [
        "## Enumeration: the trigger over a big fleet",
        "",
        "| tagged instances | file systems | trigger run | API calls | EC2 RequestLimitExceeded | execution input | "
        "peak RSS |",
        "|---|---|---|---|---|---|---|",
        f"| {enum['instances']} | {enum['file_systems']} | {enum['handler_s']:.2f} s | {enum['calls']} "
        f"({fmt_ops(enum['by_operation'])}) | {fmt_refused(enum['refused'])} | {enum['input_kib']:.1f} KiB of "
        f"256 KiB | {enum['peak_rss_mib']:.1f} MiB |",
        "",
        f"Target: input under 64 KiB for 5,000 instances: {mark_flat(enum['input_kib'] < 64)} "
        f"({enum['instances']:,} instances measured).",
        "",
        "How: the release trigger run once over the seeded fleet, with the emulator holding EC2's request buckets "
        "at AWS's sizes (DescribeInstances with filters: a burst of 100, 20 a second); API calls counted by the "
        "fault proxy.",
        "",
    ]


# A volume of this many GiB is read back whole (VERIFY_READ_FRACTION 1): the emulator writes one block in 64.
VERIFY_VOLUME_GIB = 256
BLOCK = 512 * KIB
# The EBS direct APIs' list prices (US East): GetSnapshotBlock per 1,000 blocks, the list calls per 1,000.
USD_PER_1000_BLOCKS, USD_PER_1000_LISTS = 0.003, 0.0006


def verification(env):
    """The release verify function reading a whole snapshot set back through the EBS direct APIs, as the
    verify role (its policy enforced): blocks read per second, bytes, peak memory."""
    fresh_stack()
    ec2 = stack.client("ec2")
    volume = ec2.create_volume(AvailabilityZone=f"{stack.REGION}a", Size=VERIFY_VOLUME_GIB)["VolumeId"]
    instance = "i-0b0e0c0a0b0e0c0a0"
    tags = {
        "ManagedBy": "snapmgmt",
        "snapmgmt:TargetId": instance,
        "snapmgmt:RunId": "bench",
        "snapmgmt:Stack": stack.STACK_ID,
    }
    spec = {"volumeId": volume, "tags": tags, "startTime": time.time() - DAY}
    stack.control("/moto-api/snapmgmt/ec2/bulk-snapshots", {"snapshots": [spec]})
    stack.set_faults([])
    run = invoke_release("verify", {"instanceId": instance, "round": 0}, {**env, "VERIFY_READ_FRACTION": "1"})
    check = run["answer"]
    assert check["outcome"] == "verified", check
    seconds = run["handler_ms"] / 1000
    total, by_operation = calls()
    return {
        "gib": VERIFY_VOLUME_GIB,
        "blocks": check["blocksRead"],
        "bytes": check["bytesRead"],
        "seconds": seconds,
        "peak_rss_mib": run["peak_rss_mib"],
        "calls": total,
        "by_operation": by_operation,
        "cost_usd": check["costUsd"],
    }


def render_verification(v):
    tib_blocks = 1024**4 // BLOCK
    per_tib = tib_blocks / 1000 * USD_PER_1000_BLOCKS + (tib_blocks / 10_000 + 1) / 1000 * USD_PER_1000_LISTS
    # The cost model: 100 instances of 200 GiB written each, verified weekly at the default 1/8 a run.
    weekly = 100 * 200 * 1024**3 // BLOCK // 8 / 1000 * USD_PER_1000_BLOCKS
    return [
        "## Verification: EBS snapshots read back without a restore",
        "",
        "| snapshot | blocks read | bytes read | time | blocks per second | MiB per second | peak RSS | API calls "
        "| cost at list prices |",
        "|---|---|---|---|---|---|---|---|---|",
        f"| one volume of {v['gib']} GiB | {v['blocks']:,} | {v['bytes'] / KIB / KIB:,.0f} MiB | {v['seconds']:.1f} s "
        f"| {v['blocks'] / v['seconds']:,.0f} | {v['bytes'] / KIB / KIB / v['seconds']:,.0f} | "
        f"{v['peak_rss_mib']:.1f} MiB | {v['calls']:,} ({fmt_ops(v['by_operation'])}) | ${v['cost_usd']:.4f} |",
        "",
        f"Cost per TiB verified (read whole, at the EBS direct APIs' US East list prices of ${USD_PER_1000_BLOCKS} "
        f"per 1,000 blocks of 512 KiB and ${USD_PER_1000_LISTS} per 1,000 list calls): **${per_tib:.2f}**. The "
        f"cost model: 100 instances with 200 GiB written each, verified weekly at the default 1/8 of their blocks a "
        f"run, read 2.4 TiB a run: **${weekly:.2f} a run**, ${weekly * 52 / 12:.2f} a month; every block of every "
        "lineage is read once in 8 weeks, with `VerifyMaxGiBRead` raised to 2,500. At its default of 100 GiB a run "
        f"the bill is ${100 * 1024**3 // BLOCK / 1000 * USD_PER_1000_BLOCKS:.2f} a run, each target reading a "
        "rotating part of its round's share: every block is still read, over 25 times as many weeks.",
        "",
        f"How: a {v['gib']} GiB volume's snapshot (the emulator writes one block in 64 of a volume, so "
        f"{v['blocks']:,} blocks), read whole (`VERIFY_READ_FRACTION=1`) by the release verify function as its role "
        "(the emulator enforcing its policy), 8 blocks at once, each checked against its SHA256; time from the "
        "event to the answer, through the fault proxy, which counts the calls. On the local stack the blocks come "
        "from the emulator on the same 2 cores, which makes and hashes each block it serves: a bound on the "
        "function's own speed, not AWS's.",
        "",
    ]


def render_transitions(fixed, per_target):
    lines = [
        "## State transitions per target per run (Step Functions bills by transition)",
        "",
        "| target | transitions |",
        "|---|---|",
    ]
    lines += [f"| {kind} | {count} |" for kind, count in per_target.items()]
    lines += [
        "",
        f"How: the scheduled workflow (the shipped definition, on the emulator's engine, functions served by "
        f"`cargo lambda watch`) run once with no targets ({fixed} transitions: the run's fixed cost) and once per "
        "kind with one target; the count is the states entered in the execution's history and in its child "
        "executions', less the fixed cost. Locally every backup is ready at the first poll; on AWS each further "
        "poll costs 3 transitions (Wait, the check, the Choice).",
        "",
    ]
    return lines


def render_fleets(fleets, report_run):
    lines = [
        f"## Fleet scale: one run over {fleets[0]['targets']:,} to {fleets[-1]['targets']:,} targets",
        "",
        "| targets | wall time | parent: history events | parent: largest state | largest child: history events | "
        "largest child: largest state | transitions per target | EC2 RequestLimitExceeded (retried) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in fleets:
        lines.append(
            f"| {r['targets']:,} | {r['wall_s']:.0f} s | {r['parent_events']} | {r['parent_payload'] / KIB:.1f} KiB | "
            f"{r['child_events']} | {r['child_payload'] / KIB:.1f} KiB | {r['transitions_per_target']:.1f} | "
            f"{fmt_refused(r['refused'])} |"
        )
    big = fleets[-1]
    flat = len({r["parent_events"] for r in fleets}) == 1
    per_target_bytes = big["result_bytes_per_target"] + big["report_bytes_per_target"]
    mib_per_100k = report_run["base_mib"] + report_run["mib_per_target"] * 100_000
    seconds_per_100k = report_run["s_per_target"] * 100_000
    lines += [
        "",
        f"The parent's figures stay flat as the fleet grows: {mark_flat(flat)} (history events "
        f"{', '.join(str(r['parent_events']) for r in fleets)}; largest state "
        f"{max(r['parent_payload'] for r in fleets) / KIB:.1f} KiB of 256). Every target runs in its own child "
        f"execution, whose history ({big['child_events']} events here) does not grow with the fleet.",
        "",
        "The largest fleet one run can carry, from these per-target figures:",
        "",
        f"- execution history: the parent's is constant ({big['parent_events']} events), a child's is "
        f"{big['child_events']} events plus 3 per extra poll on AWS: a target could poll "
        f"{(HISTORY_QUOTA - big['child_events']) // 3:,} times before its own history filled; no fleet size "
        "reaches the 25,000-event quota;",
        f"- payloads: the execution input and every parent state are constant-size; a child's largest state is "
        f"{big['child_payload'] / KIB:.1f} KiB of 256 (its cleanup lists are cut at 100 ids);",
        f"- results and report: {per_target_bytes:,.0f} bytes per target in the bucket "
        f"({per_target_bytes * 100_000 / KIB / KIB:,.0f} MiB for 100,000 targets); the release report function "
        f"read {big['targets']:,} targets' results in {report_run['handler_s']:.1f} s with a peak RSS of "
        f"{report_run['peak_rss_mib']:.1f} MiB; from the growth between the smallest and the largest fleet, about "
        f"{seconds_per_100k:.0f} s and {mib_per_100k:,.0f} MiB for 100,000 (the template gives it 900 s and 1,024 MB);",
        "- time: the run's TimeoutSeconds is 23 hours; on AWS a target's time is its backup's (minutes), run "
        "at the kind's concurrency (EC2 at most 100 at once, SSM Automation's own limit): 100,000 instances at "
        "5 minutes each need about 83 hours, so a fleet that large must split its instances over several "
        "schedules (tag values), not over several Step Functions quotas.",
        "",
        "How: for each fleet size, a fresh emulator seeded with 2% FSx and 2% EFS file systems and the rest "
        "direct-mode instances of one volume, then one scheduled run through the trigger (functions served by "
        "`cargo lambda watch`, the shipped definition on the emulator's engine with its 25,000-event and 256 KiB "
        "limits enforced, EC2's request buckets at AWS's sizes; every target must still be backed up, so each "
        "refusal counted was retried and succeeded). Parent figures from its execution history; the children's "
        "from the emulator's record of each Map Run's child executions (its control route); the report function's "
        "time and memory from its release binary run over the largest fleet's results.",
        "",
        "## The command line's `plan` over a fleet",
        "",
        "| targets | `snapmgmt plan` | API calls | EC2 RequestLimitExceeded (retried) |",
        "|---|---|---|---|",
    ]
    for r in fleets:
        plan = r["plan"]
        lines.append(
            f"| {r['targets']:,} | {plan['wall_s']:.1f} s | {plan['calls']:,} ({fmt_ops(plan['by_operation'])}) | "
            f"{fmt_refused(plan['refused'])} |"
        )
    lines += [
        "",
        "How: after each fleet's run above, the release `snapmgmt --json plan` (`target/release/snapmgmt`) as the "
        "stack's operator, its read-only policy enforced by the emulator, with EC2's request buckets at AWS's "
        "sizes: the trigger's listing, then every target's backups judged in the stack's Region (8 at once), for "
        "the schedule's next run. Wall time of the process; calls counted by the fault proxy, refusals by the "
        "emulator (the plan's own, not the run's before it); its memory: the section below.",
        "",
    ]
    return lines


def render_package(record):
    if record is None:
        return ["## Packaging: `sam build` from a clean clone", "", "Not measured: run `make package` first.", ""]
    lines = [
        "## Packaging: `sam build` from a clean clone",
        "",
        f"`sam build`, the README's first deploy command, on commit {record['commit']}: **{record['seconds']:.0f} s** "
        "from a clean clone with an empty target directory (crates from the local registry cache).",
        "",
        "| function | `bootstrap` (arm64) | zip |",
        "|---|---|---|",
    ]
    for name, artifact in sorted(record["artifacts"].items()):
        mib = {k: v / KIB / KIB for k, v in artifact.items()}
        lines.append(f"| {name} | {mib['bootstrap']:.1f} MiB | {mib['zip']:.1f} MiB |")
    lines += [
        "",
        "How: `make package` (`local/package.sh`) clones the repository's HEAD into a new directory and runs "
        "`sam build` there as the README says (samconfig.toml's beta_features for the cargo-lambda builder), "
        "then zips each function's `bootstrap` as `sam deploy` would upload it.",
        "",
    ]
    return lines


def mark_flat(ok):
    return "yes" if ok else "**no**"


def fmt_ops(by_operation):
    # REST operations are a path per resource (AWS Backup's ListTags: GET /tags/ARN; the EBS direct APIs'
    # GET /snapshots/ID/blocks[/INDEX], /changedblocks): each counted as the one operation it is.
    grouped = collections.Counter()
    for op, n in by_operation.items():
        grouped[operation_of(op)] += n
    return ", ".join(f"{op} {n}" for op, n in sorted(grouped.items(), key=lambda kv: -kv[1]))


def operation_of(request: str) -> str:
    if request.startswith("GET /tags/"):
        return "GET /tags/ARN (ListTags)"
    if re.fullmatch(r"GET /snapshots/[^/]+/blocks/\d+", request):
        return "GetSnapshotBlock"
    if re.fullmatch(r"GET /snapshots/[^/]+/blocks", request):
        return "ListSnapshotBlocks"
    if re.fullmatch(r"GET /snapshots/[^/]+/changedblocks", request):
        return "ListChangedBlocks"
    return request


if __name__ == "__main__":
    main()
