#!/usr/bin/env python3
"""Benchmarks snapmgmt on the local stack and writes BENCHMARKS.md; every figure is measured in this run.

Run it with `make bench` (which builds the release binaries and the arm64 zips, then starts the local stack).
It measures, for the release build of each function: cold start (process start to the first invocation
handled, through a Lambda Runtime API served here) and peak RSS; the size of each arm64 deployment zip;
the trigger over 5,000 tagged instances and 500 file systems; cleanup of one instance with 10,000 snapshots
(9,000 expired) and of one file system with 2,000 backups (1,800 expired), against the original sample's way
of cleaning up; and the Step Functions state transitions each kind of target costs per run. API calls are
counted by the fault proxy between the functions and the emulator.
"""

import argparse
import concurrent.futures
import datetime
import http.server
import json
import os
import pathlib
import platform
import statistics
import subprocess
import threading
import time

import botocore.config
import stack

ROOT = pathlib.Path(__file__).resolve().parent.parent
RELEASE = ROOT / "target" / "release"
ZIPS = ROOT / "target" / "lambda"
FUNCTIONS = ["trigger", "check-in-progress", "backup-fsx", "snapshot-ebs", "cleanup", "efs-backup"]
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
        "STATE_MACHINE_ARN": state_machine_arn,
        "SNAPSHOT_MODE": "direct",
        "BACKUP_VAULT_NAME": "snapmgmt-local-vault",
        "BACKUP_ROLE_ARN": "arn:aws:iam::123456789012:role/snapmgmt-local-backup",
        "AWS_LAMBDA_LOG_FORMAT": "JSON",
    }


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
    backup = stack.create_backup(fsx, fs, 1, ours=True)
    instance = stack.create_instance(ec2, tagged=False)
    efs_id = stack.create_efs(efs, tagged=False)["FileSystemId"]
    events = {
        "trigger": {"dryRun": True},
        "check-in-progress": {"kind": "fsx", "fileSystemId": fs},
        "backup-fsx": {"fileSystemId": fs, "dryRun": True},
        "snapshot-ebs": {"instanceId": instance, "dryRun": True},
        "cleanup": {"kind": "fsx", "fileSystemId": fs, "newBackupId": backup, "dryRun": True},
        "efs-backup": {"action": "start", "fileSystemId": efs_id, "dryRun": True},
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


def zip_size(function):
    path = ZIPS / function / "bootstrap.zip"
    return path.stat().st_size / KIB / KIB if path.exists() else None


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
    }


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
        run_tags = {"ManagedBy": "snapmgmt", "snapmgmt:TargetId": instance, "snapmgmt:RunId": f"run-{n:05d}"}
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
    tags = {"ManagedBy": "snapmgmt", "snapmgmt:TargetId": fs}
    specs = [
        {"tags": tags, "creationTime": now - (30 + n if n < expired else (backups - 1 - n) / 24) * DAY}
        for n in range(backups)
    ]
    ids = []
    for chunk in range(0, len(specs), 1000):
        body = {"fileSystemId": fs, "backups": specs[chunk : chunk + 1000]}
        ids += stack.control("/moto-api/snapmgmt/fsx/bulk-backups", body)["backupIds"]
    return fs, ids[-1]


def snapmgmt_cleanup(env, event):
    stack.set_faults([])
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
    }


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


def transitions():
    """State transitions (states entered) of one scheduled run per kind of target, less a run's fixed ones."""
    import workflow

    def run_once():
        event = workflow.scheduled_event(False, 1)
        event["time"] = None
        started = workflow.invoke(stack.client("lambda", os.environ["AWS_ENDPOINT_URL_LAMBDA"]), "trigger", event)
        sfn = stack.client("stepfunctions")
        workflow.wait_for(sfn, started["executionArn"], 300)
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=started["executionArn"])
        return sum(1 for p in pages for e in p["events"] if e["type"].endswith("StateEntered"))

    fsx, ec2, efs = stack.client("fsx"), stack.client("ec2"), stack.client("efs")
    stack.control("/moto-api/reset", {})
    import deploy

    deploy.deploy()
    fixed = run_once()
    counts = {}
    for kind, make in (
        ("FSx file system", lambda: stack.create_backup(fsx, stack.create_file_system(fsx), 20, ours=True)),
        ("EC2 instance (direct mode)", lambda: stack.create_instance(ec2, mode="direct")),
        ("EC2 instance (ssm mode)", lambda: stack.create_instance(ec2, mode="ssm")),
        ("EFS file system", lambda: stack.create_efs(efs)),
    ):
        stack.control("/moto-api/reset", {})
        deploy.deploy()
        make()
        counts[kind] = run_once() - fixed
    return fixed, counts


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="cold starts per function (median reported)")
    parser.add_argument("--scale", type=float, default=1.0, help="shrink the inventories (e.g. 0.1) for a quick look")
    parser.add_argument("--baseline-sample", type=int, default=30, help="deletes timed the original sample's way")
    parser.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    args = parser.parse_args()
    scale = lambda n: max(1, int(n * args.scale))  # noqa: E731

    args.sizes = {
        "snapshots": scale(1000) * 10,
        "expired_snapshots": scale(900) * 10,
        "backups": scale(2000),
        "expired_backups": scale(1800),
    }
    env = settings(bench_state_machine())
    print("cold starts ...", flush=True)
    starts = cold_starts(env, args.runs)
    print("enumeration ...", flush=True)
    enum = enumeration(env, scale(5000), scale(500))
    print("EBS cleanup ...", flush=True)
    instance, newest = ebs_inventory(scale(1000), scale(900), 10)
    ebs = snapmgmt_cleanup(env, {"kind": "ebs", "instanceId": instance, "newSnapshotIds": newest})
    baseline_instance, _ = ebs_inventory(scale(1000), scale(900), 10)
    ebs_base = original_ebs(baseline_instance, args.baseline_sample)
    print("FSx cleanup ...", flush=True)
    fs, new = fsx_inventory(scale(2000), scale(1800))
    fsx = snapmgmt_cleanup(env, {"kind": "fsx", "fileSystemId": fs, "newBackupId": new})
    baseline_fs, _ = fsx_inventory(scale(2000), scale(1800))
    fsx_base = original_fsx(baseline_fs, args.baseline_sample)
    print("state transitions ...", flush=True)
    fixed, per_target = transitions()

    report = render(args, starts, enum, ebs, ebs_base, fsx, fsx_base, fixed, per_target)
    pathlib.Path(args.out).write_text(report)
    print(report)


def render(args, starts, enum, ebs, ebs_base, fsx, fsx_base, fixed, per_target):
    def mark(ok):
        return "yes" if ok else "**no**"

    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    lines = [
        "# snapmgmt benchmarks",
        "",
        f"Written by `make bench` on {datetime.date.today()}: {os.cpu_count()} CPUs ({cpu}), {platform.system()} "
        f"{platform.machine()}; the AWS emulator (moto) and the functions on this one machine. Every figure below "
        "was measured in that run; how, under each table.",
        "",
        "## Cold start, memory, package size (release build)",
        "",
        "| function | start-up (to first `/next`) | cold start (to first answer) | peak RSS | binary (host) | "
        "zip (arm64) |",
        "|---|---|---|---|---|---|",
    ]
    for r in starts:
        zip_mib = f"{r['zip_mib']:.1f} MiB" if r["zip_mib"] is not None else "not built"
        lines.append(
            f"| {r['function']} | {r['init_ms']:.1f} ms | {r['cold_ms']:.1f} ms | {r['peak_rss_mib']:.1f} MiB | "
            f"{r['binary_mib']:.1f} MiB | {zip_mib} |"
        )
    worst_cold = max(r["cold_ms"] for r in starts)
    worst_rss = max(r["peak_rss_mib"] for r in starts)
    zips = [r["zip_mib"] for r in starts if r["zip_mib"] is not None]
    lines += [
        "",
        f"Targets: cold start under 50 ms: {mark(worst_cold < 50)} (worst {worst_cold:.1f} ms); peak RSS under "
        f"40 MB: {mark(worst_rss < 40)} (worst {worst_rss:.1f} MiB); every zip under 10 MB: "
        f"{mark(bool(zips) and max(zips) < 10)}.",
        "",
        f"How: each function's release binary (`target/release/`, profile: opt-level s, LTO, one codegen unit, "
        f"panic abort, stripped) is started {args.runs} times as a fresh process against a Lambda Runtime API "
        "served by the benchmark, which hands it one event it handles with a real AWS call to the emulator "
        "(dry runs and checks of seeded resources). Start-up is process start to its first request for an "
        "event (settings read, SDK configured); cold start is process start to its answer; medians. Peak RSS "
        "is the process's `VmHWM` after the answer (the largest of the runs). Zips: `cargo lambda build "
        "--release --arm64 --output-format zip`, what `sam build` packages.",
        "",
        "## Enumeration: the trigger over a big fleet",
        "",
        "| tagged instances | file systems | trigger run | API calls | execution input | peak RSS |",
        "|---|---|---|---|---|---|",
        f"| {enum['instances']} | {enum['file_systems']} | {enum['handler_s']:.2f} s | {enum['calls']} "
        f"({fmt_ops(enum['by_operation'])}) | {enum['input_kib']:.1f} KiB of 256 KiB | "
        f"{enum['peak_rss_mib']:.1f} MiB |",
        "",
        f"Target: input under 64 KiB for 5,000 instances: {mark(enum['input_kib'] < 64)} "
        f"({enum['instances']:,} instances measured).",
        "",
        "## Cleanup at fleet scale, against the original sample's way",
        "",
        "| cleanup | deleted | snapmgmt | API calls | peak RSS | the original's way (estimated) | faster |",
        "|---|---|---|---|---|---|---|",
    ]
    sizes = args.sizes
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
    ebs_ratio = ebs_base["estimated_s"] / ebs["handler_s"]
    describes = ebs["by_operation"].get("DescribeSnapshots", 0)
    lines += [
        "",
        f"Targets: {sizes['expired_snapshots']:,} expired snapshots at least 20x faster than the original's way: "
        f"{mark(ebs_ratio >= 20)} ({ebs_ratio:.0f}x); API calls at most one describe page per 1,000 plus one delete "
        f"per snapshot: {describes} DescribeSnapshots pages for {sizes['snapshots']:,} snapshots and "
        f"{ebs['by_operation'].get('DeleteSnapshot', 0)} "
        f"deletes, plus {ebs['by_operation'].get('DescribeImages', 0)} DescribeImages page (the AMI-in-use check).",
        "",
        "How: snapmgmt is the cleanup function's release binary, one invocation, deletes 4 at a time (adaptive "
        "retry), its time from receiving the event to answering. The original sample's way is reproduced in "
        "Python (boto3) as its code did it: EBS listed by tag without `OwnerIds`, FSx by listing every "
        "user-initiated backup in the region and filtering on the client; then one delete at a time with a 1 s "
        f"sleep after each. Its listing is timed in full; {ebs_base['sample']} of its deletes are timed "
        f"(EBS {ebs_base['per_delete_s']:.2f} s, FSx {fsx_base['per_delete_s']:.2f} s each, the sleep included) and "
        "the rest estimated from them: a full run would take hours. Both work on identical inventories, seeded "
        "through the emulator's bulk control routes; API calls are counted by the fault proxy (no faults set).",
        "",
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
        "kind with one target; the count is the states entered in the execution history, less the fixed cost. "
        "Locally every backup is ready at the first poll; on AWS each further poll costs 3 transitions (Wait, "
        "the check, the Choice).",
        "",
    ]
    return "\n".join(lines)


def fmt_ops(by_operation):
    return ", ".join(f"{op} {n}" for op, n in sorted(by_operation.items(), key=lambda kv: -kv[1]))


if __name__ == "__main__":
    main()
