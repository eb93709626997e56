"""Stacks side by side on one emulator, each deployed as `sam deploy` would (local/add_stack.py): its own
functions, its own roles enforced, `DeleteOrphans=true`. Two in two Regions copying into each other's (east
and west), and two in one Region with different target tags (east and team). Run at once, none lists,
reports or deletes another's backups or copies, and each one's copies in the other's Region are left to its
own rule."""

import concurrent.futures
import json
import os
import time

import add_stack
import iam_usage
import pytest
import stack
import test_cli
import workflow
from test_workflow import QUICK

EAST, WEST = "us-east-1", "us-west-2"
# Every stack deletes its orphans, and may delete all but the newest of a resource's expired backups at once.
COMMON = {"DeleteOrphans": "true", "RetentionDays": "7", "MinKeep": "1", "MaxDeletePercent": "100", "Ec2ApiShare": "0"}
STACKS = {
    "east": (EAST, {**COMMON, "CopyRegion": WEST, "CopyBackupVaultName": "east-copies", "CopyRetention": "days=7"}),
    "west": (WEST, {**COMMON, "CopyRegion": EAST, "CopyBackupVaultName": "west-copies", "CopyRetention": "days=7"}),
    "team": (EAST, {**COMMON, "TargetTagValue": "TeamTarget"}),
}


@pytest.fixture(scope="module")
def stacks(local_stack):
    state = stack_state_dir()
    started = {name: add_stack.Stack(name, region, parameters, state) for name, (region, parameters) in STACKS.items()}
    try:
        for each in started.values():
            each.start()
        yield started
    finally:
        for each in started.values():
            each.stop()


def stack_state_dir():
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    state = add_stack.LOCAL / ".state" / worker if worker else add_stack.LOCAL / ".state"
    state.mkdir(parents=True, exist_ok=True)
    return state


def run(deployed: add_stack.Stack) -> dict:
    """The stack's nightly run, as its schedule starts it: its own trigger, its own state machine."""
    event = workflow.scheduled_event(False, None)
    event["timing"] = QUICK
    started = workflow.invoke(stack.client("lambda", deployed.lambda_endpoint), "trigger", event)
    sfn = stack.client("stepfunctions", region=deployed.region)
    return workflow.summarize(sfn, started, workflow.wait_for(sfn, started["executionArn"], timeout=300))


def aged_backup(region: str, fs_id: str, age_days: float, stack_id: str) -> str:
    """A backup of ours in `region`, made by the stack `stack_id` names, aged."""
    fsx = stack.client("fsx", region=region)
    tags = [*stack.our_tags(fs_id, stack_id), {"Key": "Name", "Value": f"{age_days:g} days old"}]
    backup_id = fsx.create_backup(FileSystemId=fs_id, Tags=tags)["Backup"]["BackupId"]
    age(region, backup_id, age_days)
    return backup_id


def aged_copy(source_region: str, fs_id: str, age_days: float, stack_id: str) -> str:
    """A copy in the other Region of a backup the stack `stack_id` made, as an earlier run of it left it."""
    source = aged_backup(source_region, fs_id, age_days, stack_id)
    destination = WEST if source_region == EAST else EAST
    tags = [*stack.our_tags(fs_id, stack_id), {"Key": "snapmgmt:SourceId", "Value": source}]
    copy = stack.client("fsx", region=destination).copy_backup(
        SourceRegion=source_region, SourceBackupId=source, Tags=tags
    )["Backup"]["BackupId"]
    age(destination, copy, age_days)
    return copy


def age(region: str, backup_id: str, age_days: float) -> None:
    created = time.time() - age_days * stack.DAY
    body = {"backupId": backup_id, "creationTime": created, "lifecycle": "AVAILABLE", "region": region}
    stack.control("/moto-api/snapmgmt/fsx/backup", body)


def file_system(region: str, tag_value=None) -> str:
    """A file system in `region`, a target of the stacks whose target tag has this value (None: of none)."""
    fsx = stack.client("fsx", region=region)
    tags = [{"Key": "ResourceType", "Value": tag_value}] if tag_value else []
    return fsx.create_file_system(
        FileSystemType="WINDOWS",
        StorageCapacity=1200,
        SubnetIds=["subnet-0123456789abcdef0"],
        WindowsConfiguration={"ThroughputCapacity": 8},
        Tags=[*tags, {"Key": "Name", "Value": tag_value or "no target"}],
    )["FileSystem"]["FileSystemId"]


def deleted(summary: dict) -> set:
    """Every backup the run's report says it deleted: its targets', their copies', its orphans'."""
    found = set()

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "deleted" and isinstance(item, list):
                    found.update(i for i in item if isinstance(i, str))
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(summary)
    return found


def inventory() -> set:
    return {
        b["BackupId"]
        for region in (EAST, WEST)
        for page in stack.client("fsx", region=region).get_paginator("describe_backups").paginate()
        for b in page["Backups"]
    }


def test_stacks_side_by_side_with_delete_orphans_touch_only_their_own_backups(aws, stacks):
    for each in stacks.values():
        each.deploy()
    ids = {name: deployed.stack_id for name, deployed in stacks.items()}
    east_fs, west_fs = file_system(EAST, "SnapshotMgmtTarget"), file_system(WEST, "SnapshotMgmtTarget")
    team_fs = file_system(EAST, "TeamTarget")
    gone_east, gone_west = file_system(EAST), file_system(WEST)
    made = {name: set() for name in stacks}
    # Each stack's expired backups of its target, and its expired copies of them in the other stack's Region.
    copies = {}
    for name, region, fs in (("east", EAST, east_fs), ("west", WEST, west_fs)):
        made[name] |= {aged_backup(region, fs, days, ids[name]) for days in (20, 30)}
        copies[name] = {aged_copy(region, fs, days, ids[name]) for days in (20, 30)}
        made[name] |= copies[name]
    made["team"] |= {aged_backup(EAST, team_fs, days, ids["team"]) for days in (20, 30)}
    # Orphans: a file system no longer a target, in each Region, with expired backups of every stack there.
    for name in ("east", "team"):
        made[name] |= {aged_backup(EAST, gone_east, days, ids[name]) for days in (30, 40, 50)}
    made["west"] |= {aged_backup(WEST, gone_west, days, ids["west"]) for days in (30, 40, 50)}
    # Another stack's copies of a resource of its Region are no orphans here, though that resource is not here.
    made["west"] |= {aged_copy(WEST, gone_west, days, ids["west"]) for days in (30, 40)}
    before = inventory()
    seeded = set().union(*made.values())
    assert seeded <= before

    with concurrent.futures.ThreadPoolExecutor(len(stacks)) as pool:
        summaries = dict(zip(stacks, pool.map(run, stacks.values())))

    for name, summary in summaries.items():
        assert summary["status"] == "SUCCEEDED", f"{name}: {json.dumps(summary)[:3000]}"
    owners = {backup_id: name for name, ids_made in made.items() for backup_id in ids_made}
    for name, summary in summaries.items():
        gone = deleted(summary)
        others = {b: owners[b] for b in gone if owners.get(b, name) != name}
        assert not others, f"{name} deleted other stacks' backups: {others}"
        assert gone, f"{name} deleted nothing: DeleteOrphans and the retention were not in force"
    expected_orphans = {"east": {gone_east}, "team": {gone_east}, "west": {gone_west}}
    targets = {"east": east_fs, "west": west_fs, "team": team_fs}
    for name, summary in summaries.items():
        assert {o["targetId"] for o in summary["orphans"]} == expected_orphans[name], (name, summary["orphans"])
        assert [t["targetId"] for t in summary["targets"]] == [targets[name]]
    # What is left: every seeded backup that its own stack did not delete.
    left = inventory()
    for name, ids_made in made.items():
        assert ids_made - left == ids_made & deleted(summaries[name]), name
    # Each stack's expired copies, in the other's Region, went by its own copy rule (CopyRetention days=7).
    for name, expired in copies.items():
        assert expired <= deleted(summaries[name]) and not expired & left, name
    # Each orphan cleaned by its own stack down to the newest (MinKeep): east's and team's three, west's five
    # (its copies' sources are backups of it too).
    for name, fs, count in (("east", gone_east, 3), ("team", gone_east, 3), ("west", gone_west, 5)):
        [orphan] = [o for o in summaries[name]["orphans"] if o["targetId"] == fs and not o.get("region")]
        assert orphan["cleanup"]["dryRun"] is False and len(orphan["cleanup"]["deleted"]) == count - 1, (name, orphan)
    # Each stack's operator sees its own runs only, with the command line, in its Region.
    for name, deployed in stacks.items():
        listed = test_cli.snapmgmt("--stack", name, "--json", "runs", stack_id=deployed.stack_id)
        assert listed.returncode == 0, listed.stderr
        assert [r["run"] for r in json.loads(listed.stdout)] == [summaries[name]["execution"].rsplit(":", 1)[-1]]
    # Each stack's functions acted as its own roles, all enforced, none refused.
    decisions = iam_usage.live_decisions()
    for name in stacks:
        mine = [d for d in decisions if d["role"].rsplit("/", 1)[-1].startswith(f"{name}-")]
        assert mine and all(d["allowed"] for d in mine), name
