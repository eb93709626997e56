"""The verify function on the local stack, as its role (IAM enforced with template.yaml's policy): an
instance's newest snapshot set of this stack read back through the EBS direct APIs, a corrupt block found and
named, another stack's snapshots neither picked nor readable, and nothing changed. And the verify workflow
(statemachine/verify.asl.json, as its role) over every target: each one's lastVerified kept, a corrupt block
failing its target and the run, the next run reading the next round, and `snapmgmt status` showing it; its
restore tests making a volume of each snapshot, deleting them whatever happened, a failed restore failing its
target, and the sweep removing what a failed run of this stack left, nothing of another's. EFS file systems
verified by restoring their newest recovery point of this stack into a new file system (AWS Backup, as the
stack's backup role), which is deleted after, a failed restore's too; the sweep taking this stack's leftovers,
tagged or only marked by their creation token. FSx targets of the kinds opted into restored into a new file
system, or an ONTAP volume into a new volume, made as the source is, deleted without a final backup, a failed
restore failing its target; the sweep taking this stack's day-old ones. With copies, each file system's newest
copy in the copy Region restored there too (EFS from the copy vault, FSx where the stack's VerifyCopy*
parameters say) and deleted, a failed one failing its target named by its Region, the sweep there too."""

import json
import os
import time

import botocore.exceptions
import conftest
import deploy
import pytest
import stack
import workflow
from moto_ext.lambda_functions import FunctionInvoker
from test_cli import snapmgmt
from test_iam import as_function
from test_sample_events import state_machine_arn

DAY = 86_400


def invoke(event: dict) -> dict:
    client = FunctionInvoker(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    response = client.invoke(FunctionName="verify", Payload=json.dumps(event).encode())
    answer = json.loads(response["Payload"].read())
    assert not response.get("FunctionError"), answer
    return answer


def snapshot_set(ec2, instance: str, run: str, age_days: float, stack_id: str = stack.STACK_ID) -> list:
    """A completed set of ours of every volume of the instance, made `age_days` ago; its ids, sorted."""
    mappings = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]
    tags = {"ManagedBy": "snapmgmt", "snapmgmt:TargetId": instance, "snapmgmt:RunId": run, "snapmgmt:Stack": stack_id}
    specs = [
        {"volumeId": m["Ebs"]["VolumeId"], "tags": tags, "startTime": time.time() - age_days * DAY} for m in mappings
    ]
    return sorted(stack.control("/moto-api/snapmgmt/ec2/bulk-snapshots", {"snapshots": specs})["snapshotIds"])


def inventory(ec2) -> list:
    return sorted(
        json.dumps(s, default=str, sort_keys=True) for s in ec2.describe_snapshots(OwnerIds=["self"])["Snapshots"]
    )


def test_the_newest_set_of_this_stack_reads_back_and_a_corrupt_block_is_named(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=1)
    older = snapshot_set(ec2, instance, "run-a", 3)
    newest = snapshot_set(ec2, instance, "run-b", 1)
    snapshot_set(ec2, instance, "run-other", 0.5, stack_id="other@us-east-1")
    before = inventory(ec2)

    check = invoke({"instanceId": instance, "round": 2})

    assert check["outcome"] == "verified", check
    assert (check["backup"], check["previous"]) == (newest, older), "this stack's newest, not the other's"
    assert check["blocksRead"] > 0 and check["changedBytes"] > 0 and check["badBlocks"] == []
    assert inventory(ec2) == before, "a verification changes nothing"

    snapshot = newest[0]
    blocks = stack.client("ebs").list_snapshot_blocks(SnapshotId=snapshot)["Blocks"]
    corrupt = next(b["BlockIndex"] for b in blocks if b["BlockIndex"] % 8 == 2)  # read in round 2
    stack.control(
        "/moto-api/snapmgmt/ebs/block-faults", {"snapshotId": snapshot, "blockIndex": corrupt, "fault": "corrupt"}
    )

    failed = invoke({"instanceId": instance, "round": 2})

    assert failed["outcome"] == "failed"
    assert [(b["snapshotId"], b["blockIndex"]) for b in failed["badBlocks"]] == [(snapshot, corrupt)]


def test_an_instances_restore_by_hand_answers_pending_and_is_followed_until_its_volumes_are_deleted(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2)
    newest = snapshot_set(ec2, instance, "run-a", 1)
    volumes_before = volume_ids(ec2)

    check = invoke({"instanceId": instance, "restore": True, "runId": "verify-by-hand"})

    test = check["restore"]
    assert test["pending"] and sorted(r["backupId"] for r in test["resources"]) == newest, check
    assert check["blocksRead"] > 0, "its blocks are read before its volumes are made"
    made = {r["resourceId"] for r in test["resources"]}
    assert made <= volume_ids(ec2) - volumes_before, "being made, in the instance's zone"
    for _ in range(60):
        check = invoke({"action": "follow", "check": check})
        if not check["restore"].get("pending"):
            break
        time.sleep(test["pollSeconds"])
    test = check["restore"]
    assert check["outcome"] == "verified" and test["restored"] and test["cleanedUp"], check
    assert all(r["state"] == "available" and r["deleted"] for r in test["resources"]), test
    assert volume_ids(ec2) == volumes_before, "every volume it made is gone"


def verify_run(sfn) -> dict:
    started = sfn.start_execution(stateMachineArn=state_machine_arn("snapmgmt-verify"), input="{}")
    return workflow.wait_for(sfn, started["executionArn"], timeout=120)


def bucket_json(key: str) -> dict:
    body = stack.client("s3").get_object(Bucket=deploy.INVENTORY_BUCKET, Key=key)["Body"].read()
    return json.loads(body)


def test_a_verify_run_checks_every_target_keeps_last_verified_and_fails_naming_a_corrupt_block(aws):
    ec2, sfn = stack.client("ec2"), stack.client("stepfunctions")
    good, bad, unbacked = (stack.create_instance(ec2, volumes=1) for _ in range(3))
    stack.create_instance(ec2, tagged=False, volumes=1)
    snapshot_set(ec2, good, "run-a", 1)
    bad_set = snapshot_set(ec2, bad, "run-a", 1)
    blocks = stack.client("ebs").list_snapshot_blocks(SnapshotId=bad_set[0])["Blocks"]
    corrupt = next(b["BlockIndex"] for b in blocks if b["BlockIndex"] % 8 == 0)  # the first run reads round 0
    stack.control(
        "/moto-api/snapmgmt/ebs/block-faults", {"snapshotId": bad_set[0], "blockIndex": corrupt, "fault": "corrupt"}
    )
    before = inventory(ec2)

    execution = verify_run(sfn)

    assert execution["status"] == "FAILED", execution
    assert execution["error"] == "VerificationFailed"
    assert bad in execution["cause"] and f"{bad_set[0]} block {corrupt}" in execution["cause"], execution["cause"]
    ledger = bucket_json("state/last-verified.json")
    assert ledger["nextRound"] == 1
    outcomes = {key: entry["outcome"] for key, entry in ledger["targets"].items()}
    assert outcomes == {f"ec2:{good}": "verified", f"ec2:{bad}": "failed", f"ec2:{unbacked}": "noBackup"}
    verified = ledger["targets"][f"ec2:{good}"]
    assert verified["lastGood"] == verified["at"] and verified["bytesRead"] > 0 and len(verified["backup"]) >= 1
    assert ledger["targets"][f"ec2:{bad}"]["lastGood"] is None
    report = bucket_json(f"reports/verify/{execution['name']}.json")
    assert (report["round"], report["totals"]["targets"], report["totals"]["failed"]) == (0, 3, 1)
    [failed] = [c for c in report["checks"] if c["outcome"] == "failed"]
    assert [(b["snapshotId"], b["blockIndex"]) for b in failed["badBlocks"]] == [(bad_set[0], corrupt)]
    assert inventory(ec2) == before, "a verify run changes no backup"

    # The next run reads the next round: the corrupt block is not in its share, and the target verifies again.
    again = verify_run(sfn)

    assert again["status"] == "SUCCEEDED", again
    output = json.loads(again["output"])
    assert (output["totals"]["verified"], output["totals"]["noBackup"], output["failedTargets"]) == (2, 1, [])
    assert bucket_json("state/last-verified.json")["nextRound"] == 2

    # The operator sees it: status lists each target's last verification (targets come from the nightly ledger).
    now = int(time.time())
    nightly = {"targets": {f"ec2:{i}": {"firstSeen": now - DAY, "lastCompleted": now - DAY} for i in (good, bad)}}
    stack.client("s3").put_object(
        Bucket=deploy.INVENTORY_BUCKET, Key="state/last-backups.json", Body=json.dumps(nightly).encode()
    )
    status = snapmgmt("--json", "status")
    assert status.returncode == 0, status.stderr
    shown = {t["targetId"]: t["lastVerified"]["outcome"] for t in json.loads(status.stdout)["targets"]}
    assert shown == {good: "verified", bad: "verified"}
    assert "LAST VERIFIED" in snapmgmt("status").stdout


def restore_test_volume(ec2, stack_id: str, age_days: float) -> str:
    """A volume a restore test of `stack_id` made `age_days` ago and left behind."""
    tags = [{"Key": "snapmgmt:RestoreTest", "Value": "an-old-run"}, {"Key": "snapmgmt:Stack", "Value": stack_id}]
    volume = ec2.create_volume(
        AvailabilityZone=f"{stack.REGION}a", Size=8, TagSpecifications=[{"ResourceType": "volume", "Tags": tags}]
    )["VolumeId"]
    stack.control("/moto-api/snapmgmt/ec2/volume", {"volumeId": volume, "createTime": time.time() - age_days * DAY})
    return volume


def volume_ids(ec2) -> set:
    return {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}


def test_restore_tests_delete_their_volumes_a_failed_restore_fails_its_target_and_the_sweep_takes_only_ours(aws):
    ec2, sfn = stack.client("ec2"), stack.client("stepfunctions")
    good, bad = (stack.create_instance(ec2, volumes=1) for _ in range(2))
    good_set = snapshot_set(ec2, good, "run-a", 1)
    bad_set = snapshot_set(ec2, bad, "run-a", 1)
    stack.control("/moto-api/snapmgmt/ec2/volume-faults", {"snapshotId": bad_set[-1], "fault": "error"})
    leftover = restore_test_volume(ec2, stack.STACK_ID, 2)
    running = restore_test_volume(ec2, stack.STACK_ID, 0.1)
    another_stacks = restore_test_volume(ec2, "other@us-east-1", 2)
    volumes_before = volume_ids(ec2) - {leftover}
    snapshots_before = inventory(ec2)

    execution = verify_run(sfn)

    assert execution["status"] == "FAILED", execution
    assert bad in execution["cause"] and "restore test" in execution["cause"], execution["cause"]
    report = bucket_json(f"reports/verify/{execution['name']}.json")
    checks = {c["targetId"]: c for c in report["checks"]}
    restored = checks[good]["restore"]
    assert checks[good]["outcome"] == "verified" and restored["restored"] and restored["cleanedUp"]
    assert sorted(v["backupId"] for v in restored["resources"]) == good_set
    assert all(v["state"] == "available" and v["deleted"] for v in restored["resources"])
    failed = checks[bad]["restore"]
    assert checks[bad]["outcome"] == "failed" and not failed["restored"] and failed["cleanedUp"], failed
    assert [v["state"] for v in failed["resources"] if v["backupId"] == bad_set[-1]] == ["error"]
    assert (report["totals"]["restoreTests"], report["totals"]["restoreTestsFailed"]) == (2, 1)
    # Every volume the run made is gone, the old leftover of this stack swept, the rest untouched.
    assert volume_ids(ec2) == volumes_before and {running, another_stacks} <= volume_ids(ec2)
    assert inventory(ec2) == snapshots_before, "no backup changed"


def fnv1a(text: str) -> int:
    """The mark snapmgmt puts in a restore's creation token (verify/efs.rs)."""
    value = 0x811C9DC5
    for byte in text.encode():
        value = ((value ^ byte) * 0x01000193) % 2**32
    return value


def left_file_system(efs, token: str, age_days: float, tags: dict | None = None, region: str = stack.REGION) -> str:
    """A file system an earlier restore test made `age_days` ago and left behind (in `efs`'s `region`)."""
    tag_list = [{"Key": k, "Value": v} for k, v in (tags or {}).items()]
    fs_id = efs.create_file_system(CreationToken=token, Tags=tag_list)["FileSystemId"]
    aged = {"fileSystemId": fs_id, "creationTime": time.time() - age_days * DAY, "region": region}
    stack.control("/moto-api/snapmgmt/efs/file-system", aged)
    return fs_id


def file_system_ids(efs) -> set:
    return {f["FileSystemId"] for f in efs.describe_file_systems()["FileSystems"]}


def recovery_points() -> list:
    points = stack.client("backup").list_recovery_points_by_backup_vault(BackupVaultName=deploy.BACKUP_VAULT)
    return sorted(json.dumps(p, default=str, sort_keys=True) for p in points["RecoveryPoints"])


def test_efs_targets_restore_into_a_new_file_system_that_is_deleted_and_a_failed_restore_fails_its_target(aws):
    efs, sfn = stack.client("efs"), stack.client("stepfunctions")
    good, bad = (stack.create_efs(efs) for _ in range(2))
    stack.create_efs(efs, tagged=False)
    [_, newest] = stack.create_recovery_points(deploy.BACKUP_VAULT, good, [2, 1])
    [bad_point] = stack.create_recovery_points(deploy.BACKUP_VAULT, bad, [1])
    stack.control(
        "/moto-api/snapmgmt/backup/next-restores",
        {"recoveryPointArn": bad_point, "outcomes": [{"status": "FAILED", "message": "restore failed: disk full"}]},
    )
    ours = f"snapmgmt-rt-{fnv1a(stack.STACK_ID):08x}-"
    marked = left_file_system(efs, f"{ours}00000000-fs-0123456789", 2)
    tagged = left_file_system(efs, "old", 2, {"snapmgmt:RestoreTest": "run-x", "snapmgmt:Stack": stack.STACK_ID})
    recent = left_file_system(efs, f"{ours}00000000-fs-9876543210", 0.1)
    another_stacks = left_file_system(efs, f"snapmgmt-rt-{fnv1a('other@us-east-1'):08x}-00000000-fs-01", 2)
    before = file_system_ids(efs) - {marked, tagged}
    points_before = recovery_points()

    execution = verify_run(sfn)

    assert execution["status"] == "FAILED", execution
    assert bad["FileSystemId"] in execution["cause"] and "disk full" in execution["cause"], execution["cause"]
    report = bucket_json(f"reports/verify/{execution['name']}.json")
    checks = {c["targetId"]: c for c in report["checks"]}
    assert {c["kind"] for c in checks.values()} == {"efs"} and len(checks) == 2
    verified = checks[good["FileSystemId"]]
    assert verified["outcome"] == "verified" and verified["backup"] == [newest], verified
    [made] = verified["restore"]["resources"]
    assert made["backupId"] == newest and made["state"] == "COMPLETED" and made["jobId"], made
    assert made["resourceId"].startswith("fs-") and made["resourceId"] not in before and made["deleted"], made
    failed = checks[bad["FileSystemId"]]["restore"]
    assert not failed["restored"] and failed["cleanedUp"] and "disk full" in failed["error"], failed
    assert failed["resources"][0]["deleted"], "a failed restore's file system is deleted too"
    assert (report["totals"]["restoreTests"], report["totals"]["restoreTestsFailed"]) == (2, 1)
    ledger = bucket_json("state/last-verified.json")
    outcomes = {key: entry["outcome"] for key, entry in ledger["targets"].items()}
    assert outcomes == {f"efs:{good['FileSystemId']}": "verified", f"efs:{bad['FileSystemId']}": "failed"}
    # Every file system a restore made is gone, this stack's day-old leftovers swept (tagged, or only marked),
    # a recent one and another stack's untouched; no recovery point changed.
    assert file_system_ids(efs) == before and {recent, another_stacks} <= before
    assert recovery_points() == points_before
    # The validation hook was asked about the restored file system while it existed (the failed one: never).
    [call] = hook_calls()
    assert call["event"]["targetId"] == good["FileSystemId"] and call["existing"] == {made["resourceId"]: True}


def test_the_verify_role_marks_only_unmarked_file_systems_and_deletes_only_its_restore_tests(aws):
    efs = stack.client("efs")
    theirs = {"snapmgmt:RestoreTest": "run-x", "snapmgmt:Stack": "other@us-east-1"}
    another_stacks = left_file_system(efs, "theirs", 2, theirs)
    unmarked = left_file_system(efs, "a-users", 2)
    as_verify = as_function("efs", "verify")
    ours = [{"Key": "snapmgmt:RestoreTest", "Value": "run-y"}, {"Key": "snapmgmt:Stack", "Value": stack.STACK_ID}]
    refused = [
        ("TagResource", another_stacks, lambda: as_verify.tag_resource(ResourceId=another_stacks, Tags=ours)),
        (
            "TagResource",
            unmarked,
            lambda: as_verify.tag_resource(ResourceId=unmarked, Tags=[*ours, {"Key": "Name", "Value": "x"}]),
        ),
        ("DeleteFileSystem", another_stacks, lambda: as_verify.delete_file_system(FileSystemId=another_stacks)),
        ("DeleteFileSystem", unmarked, lambda: as_verify.delete_file_system(FileSystemId=unmarked)),
    ]
    for action, fs_id, call in refused:
        arn = f"arn:aws:elasticfilesystem:{stack.REGION}:{stack.ACCOUNT_ID}:file-system/{fs_id}"
        conftest.PROVOKED_DENIALS.add((f"elasticfilesystem:{action}", arn))
        with pytest.raises(botocore.exceptions.ClientError) as denied:
            call()
        assert denied.value.response["Error"]["Code"] == "AccessDeniedException", (action, fs_id)
    assert {another_stacks, unmarked} <= file_system_ids(efs)


def fsx_inventory(fsx) -> dict:
    """Every FSx file system, volume and backup by id: what a verify run must leave as it found it."""
    return {
        "fileSystems": {f["FileSystemId"] for f in fsx.describe_file_systems()["FileSystems"]},
        "volumes": {v["VolumeId"] for v in fsx.describe_volumes()["Volumes"]},
        "backups": sorted(json.dumps(b, default=str, sort_keys=True) for b in fsx.describe_backups()["Backups"]),
    }


def fsx_leftover(fsx, stack_id: str, age_days: float) -> str:
    """A file system a restore test of `stack_id` made `age_days` ago and left behind."""
    fs_id = stack.create_file_system(fsx, tagged=False, name="left")
    tags = [{"Key": "snapmgmt:RestoreTest", "Value": "an-old-run"}, {"Key": "snapmgmt:Stack", "Value": stack_id}]
    arn = fsx.describe_file_systems(FileSystemIds=[fs_id])["FileSystems"][0]["ResourceARN"]
    fsx.tag_resource(ResourceARN=arn, Tags=tags)
    stack.control(
        "/moto-api/snapmgmt/fsx/file-system", {"fileSystemId": fs_id, "creationTime": time.time() - age_days * DAY}
    )
    return fs_id


def test_fsx_targets_restore_as_made_and_are_deleted_without_a_final_backup_a_failed_restore_fails_its_target(aws):
    fsx, sfn = aws, stack.client("stepfunctions")
    windows = stack.create_file_system(fsx)
    lustre = stack.create_file_system(
        fsx, "LUSTRE", LustreConfiguration={"DeploymentType": "PERSISTENT_1", "PerUnitStorageThroughput": 50}
    )
    _, volume = stack.create_ontap_volume(fsx)
    windows_backup = stack.create_backup(fsx, windows, 1, ours=True)
    stack.create_backup(fsx, windows, 2, ours=False)
    lustre_backup = stack.create_backup(fsx, lustre, 1, ours=True)
    volume_backup = stack.create_backup(fsx, volume, 1, ours=True)
    stack.control(
        "/moto-api/snapmgmt/fsx/next-restores",
        {"backupId": lustre_backup, "outcomes": [{"lifecycle": "FAILED", "message": "out of capacity"}]},
    )
    leftover = fsx_leftover(fsx, stack.STACK_ID, 2)
    recent = fsx_leftover(fsx, stack.STACK_ID, 0.1)
    another_stacks = fsx_leftover(fsx, "other@us-east-1", 2)
    before = fsx_inventory(fsx)

    execution = verify_run(sfn)

    assert execution["status"] == "FAILED", execution
    assert lustre in execution["cause"] and "out of capacity" in execution["cause"], execution["cause"]
    report = bucket_json(f"reports/verify/{execution['name']}.json")
    checks = {c["targetId"]: c for c in report["checks"]}
    assert {c["kind"] for c in checks.values()} == {"fsx"} and set(checks) == {windows, lustre, volume}, checks
    for target, backup, ready in ((windows, windows_backup, "AVAILABLE"), (volume, volume_backup, "CREATED")):
        check = checks[target]
        [made] = check["restore"]["resources"]
        assert check["outcome"] == "verified" and check["backup"] == [backup], check
        assert made["state"] == ready and made["deleted"] and made["resourceId"] not in before["fileSystems"], made
        assert made["resourceId"].startswith("fsvol-" if target == volume else "fs-"), made
    failed = checks[lustre]["restore"]
    assert not failed["restored"] and failed["cleanedUp"] and "out of capacity" in failed["error"], failed
    # Everything a restore made is gone, without a final backup; this stack's day-old leftover swept, the rest
    # untouched; no backup changed.
    after = fsx_inventory(fsx)
    assert after["fileSystems"] == before["fileSystems"] - {leftover}
    assert {recent, another_stacks} <= after["fileSystems"] and after["volumes"] == before["volumes"]
    assert after["backups"] == before["backups"], "no backup made, changed or deleted"


def hook_calls() -> list:
    return stack.control_get("/moto-api/snapmgmt/lambda/calls?function=restore-validation")["calls"]


def test_the_validation_hooks_answer_is_the_result_and_a_hook_that_fails_fails_the_test(aws):
    fsx, sfn = aws, stack.client("stepfunctions")
    targets = [stack.create_file_system(fsx) for _ in range(2)]
    backups = {stack.create_backup(fsx, fs, 1, ours=True): fs for fs in targets}
    answers = [{"valid": False, "message": "the share is empty"}, {"errorType": "Crash", "errorMessage": "no disk"}]
    stack.control("/moto-api/snapmgmt/lambda/answers", {"function": "restore-validation", "answers": answers})
    before = fsx_inventory(fsx)

    execution = verify_run(sfn)

    assert execution["status"] == "FAILED", execution
    checks = bucket_json(f"reports/verify/{execution['name']}.json")["checks"]
    errors = sorted(c["restore"]["error"] for c in checks)
    assert [c["outcome"] for c in checks] == ["failed", "failed"], checks
    assert "not valid: the share is empty" in errors[0] and "restore-validation failed" in errors[1], errors
    assert all(c["restore"]["resources"][0]["deleted"] and not c["restore"]["restored"] for c in checks)
    # The hook saw each restored file system, of its target's backup, while it existed; then it was deleted.
    calls = hook_calls()
    assert sorted(c["event"]["targetId"] for c in calls) == sorted(targets)
    for call in calls:
        assert call["event"]["kind"] == "fsx" and backups[call["event"]["backup"][0]] == call["event"]["targetId"]
        assert list(call["existing"].values()) == [True], call
    assert fsx_inventory(fsx) == before


def test_an_instances_newest_copy_in_the_copy_region_is_read_back_and_a_bad_block_there_fails_it(aws):
    ec2, there = stack.client("ec2"), stack.client("ec2", region=conftest.COPY_REGION)
    instance = stack.create_instance(ec2, volumes=1)
    [source] = snapshot_set(ec2, instance, "run-a", 1)
    tags = {t["Key"]: t["Value"] for t in ec2.describe_snapshots(SnapshotIds=[source])["Snapshots"][0]["Tags"]}
    tags |= {"snapmgmt:SourceId": source, "snapmgmt:SourceRegion": stack.REGION}
    spec = [{"ResourceType": "snapshot", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    copy = there.copy_snapshot(SourceRegion=stack.REGION, SourceSnapshotId=source, TagSpecifications=spec)["SnapshotId"]
    deadline = time.monotonic() + 60
    while there.describe_snapshots(SnapshotIds=[copy])["Snapshots"][0]["State"] != "completed":
        assert time.monotonic() < deadline, "the copy did not complete"
        time.sleep(0.5)

    good = invoke({"instanceId": instance, "round": 0})

    assert good["outcome"] == "verified" and good["backup"] == [source], good
    assert good["copy"]["region"] == conftest.COPY_REGION and good["copy"]["backup"] == [copy], good["copy"]
    assert good["copy"]["blocksRead"] > 0 and good["blocksRead"] > good["copy"]["blocksRead"]

    blocks = stack.client("ebs", region=conftest.COPY_REGION).list_snapshot_blocks(SnapshotId=copy)["Blocks"]
    corrupt = next(b["BlockIndex"] for b in blocks if b["BlockIndex"] % 8 == 0)  # round 0's share
    stack.control(
        "/moto-api/snapmgmt/ebs/block-faults", {"snapshotId": copy, "blockIndex": corrupt, "fault": "corrupt"}
    )
    failed = invoke({"instanceId": instance, "round": 0})

    assert failed["outcome"] == "failed" and failed["badBlocks"] == [], failed
    assert [(b["snapshotId"], b["blockIndex"]) for b in failed["copy"]["badBlocks"]] == [(copy, corrupt)]


def copied_fsx_backup(fsx_there, backup_id: str) -> str:
    """The copy of a backup in the copy Region, as the nightly run makes it (the source's tags, ours among
    them), AVAILABLE."""
    copy = fsx_there.copy_backup(SourceBackupId=backup_id, SourceRegion=stack.REGION, CopyTags=True)["Backup"]
    body = {"backupId": copy["BackupId"], "lifecycle": "AVAILABLE", "region": conftest.COPY_REGION}
    stack.control("/moto-api/snapmgmt/fsx/backup", body)
    return copy["BackupId"]


def test_the_newest_copies_in_the_copy_region_are_restored_there_and_deleted_a_failed_one_fails_its_target(aws):
    there = conftest.COPY_REGION
    fsx, efs, sfn = aws, stack.client("efs"), stack.client("stepfunctions")
    fsx_there, efs_there = stack.client("fsx", region=there), stack.client("efs", region=there)
    good, bad = (stack.create_efs(efs) for _ in range(2))
    for file_system in (good, bad):
        stack.create_recovery_points(deploy.BACKUP_VAULT, file_system, [1])
    [_, copy] = stack.create_recovery_points(conftest.COPY_BACKUP_VAULT, good, [3, 1], region=there)
    [bad_copy] = stack.create_recovery_points(conftest.COPY_BACKUP_VAULT, bad, [1], region=there)
    failure = [{"status": "FAILED", "message": "restore failed: the copy is unreadable"}]
    stack.control(
        "/moto-api/snapmgmt/backup/next-restores", {"recoveryPointArn": bad_copy, "outcomes": failure, "region": there}
    )
    windows = stack.create_file_system(fsx)
    windows_copy = copied_fsx_backup(fsx_there, stack.create_backup(fsx, windows, 1, ours=True))
    _, volume = stack.create_ontap_volume(fsx)
    volume_copy = copied_fsx_backup(fsx_there, stack.create_backup(fsx, volume, 1, ours=True))
    ours = f"snapmgmt-rt-{fnv1a(stack.STACK_ID):08x}-"
    leftover = left_file_system(efs_there, f"{ours}00000000-fs-0123456789", 2, region=there)
    before = (file_system_ids(efs_there) - {leftover}, fsx_inventory(fsx_there), fsx_inventory(fsx))

    execution = verify_run(sfn)

    assert execution["status"] == "FAILED", execution
    assert bad["FileSystemId"] in execution["cause"] and f"its copy in {there}" in execution["cause"], execution
    checks = {c["targetId"]: c for c in bucket_json(f"reports/verify/{execution['name']}.json")["checks"]}
    for target, copy_id, ready in (
        (good["FileSystemId"], copy, "COMPLETED"),
        (windows, windows_copy, "AVAILABLE"),
        (volume, volume_copy, "CREATED"),
    ):
        check = checks[target]
        [here, made] = check["restore"]["resources"]
        assert check["outcome"] == "verified" and "region" not in here and here["deleted"], check
        assert (made["region"], made["backupId"], made["state"]) == (there, copy_id, ready), made
        assert made["deleted"] and made["resourceId"] and made["resourceId"] != here["resourceId"], made
    failed = checks[bad["FileSystemId"]]
    assert failed["outcome"] == "failed" and failed["restore"]["cleanedUp"], failed
    assert (
        failed["restore"]["error"]
        == f"its copy in {there}: restore job "
        + failed["restore"]["resources"][1]["jobId"]
        + " FAILED: restore failed: the copy is unreadable"
    ), failed["restore"]
    assert all(r["deleted"] for r in failed["restore"]["resources"]), "both file systems deleted"
    # Everything restored there is gone (the day-old leftover too), no backup there or here changed; the hook
    # was asked about each copy's while it existed, in its Region.
    assert (file_system_ids(efs_there), fsx_inventory(fsx_there), fsx_inventory(fsx)) == before
    calls = {c["event"]["targetId"]: c for c in hook_calls()}
    for target in (good["FileSystemId"], windows, volume):
        restored = calls[target]["event"]["restored"]
        assert [r.get("region") for r in restored] == [None, there], restored
        assert all(calls[target]["existing"].values()), calls[target]


def test_a_verify_run_over_every_kind_succeeds_and_records_each_ones_last_verification(aws):
    fsx, ec2, efs, sfn = aws, stack.client("ec2"), stack.client("efs"), stack.client("stepfunctions")
    instance = stack.create_instance(ec2, volumes=1)
    instance_set = snapshot_set(ec2, instance, "run-a", 1)
    file_system = stack.create_efs(efs)
    [point] = stack.create_recovery_points(deploy.BACKUP_VAULT, file_system, [1])
    windows = stack.create_file_system(fsx)
    fsx_backup = stack.create_backup(fsx, windows, 1, ours=True)
    _, volume = stack.create_ontap_volume(fsx)
    volume_backup = stack.create_backup(fsx, volume, 1, ours=True)

    execution = verify_run(sfn)

    assert execution["status"] == "SUCCEEDED", execution
    totals = json.loads(execution["output"])["totals"]
    assert (totals["targets"], totals["verified"], totals["restoreTests"], totals["restoreTestsFailed"]) == (4, 4, 4, 0)
    ledger = bucket_json("state/last-verified.json")["targets"]
    expected = {
        f"ec2:{instance}": instance_set,
        f"efs:{file_system['FileSystemId']}": [point],
        f"fsx:{windows}": [fsx_backup],
        f"fsx:{volume}": [volume_backup],
    }
    assert {key: entry["backup"] for key, entry in ledger.items()} == expected
    assert all(entry["outcome"] == "verified" and entry["lastGood"] == entry["at"] for entry in ledger.values())
