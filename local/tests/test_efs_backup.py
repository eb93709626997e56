"""The EFS backup: the SOP state machine on demand, and the EFS branch of the scheduled workflow, on the
emulator's Step Functions engine with the real efs-backup binary."""

import json
import re
import time

import conftest
import deploy
import stack
import workflow
from test_sample_events import state_machine_arn
from test_workflow import kept, run, target

import docs

ROLE = deploy.BACKUP_ROLE_ARN


def run_sop(fs_id: str, **extra) -> dict:
    sfn = stack.client("stepfunctions")
    sop_input = {"FileSystemId": fs_id, "BackupVaultName": deploy.BACKUP_VAULT, "BackupJobIamRoleArn": ROLE}
    started = sfn.start_execution(
        stateMachineArn=state_machine_arn("snapmgmt-efs-backup"), input=json.dumps({**sop_input, **extra})
    )
    return workflow.wait_for(sfn, started["executionArn"], timeout=120)


def test_the_sop_outputs_the_recovery_point_and_the_job(aws):
    fs = stack.create_efs(stack.client("efs"), tagged=False)

    execution = run_sop(fs["FileSystemId"], PollSeconds=1)

    assert execution["status"] == "SUCCEEDED", execution
    output = json.loads(execution["output"])
    assert set(output) == {"RecoveryPointArn", "BackupJobId"}
    assert output["RecoveryPointArn"].startswith("arn:aws:backup:")
    points = stack.client("backup").list_recovery_points_by_backup_vault(BackupVaultName=deploy.BACKUP_VAULT)
    assert output["RecoveryPointArn"] in [p["RecoveryPointArn"] for p in points["RecoveryPoints"]]


def test_a_failed_job_ends_the_sop_at_once_with_its_message(aws):
    fs = stack.create_efs(stack.client("efs"), tagged=False)
    stack.script_next_backup_jobs(
        fs["FileSystemArn"], [{"state": "EXPIRED", "message": "The job expired before it started"}]
    )
    started = time.monotonic()

    execution = run_sop(fs["FileSystemId"], PollSeconds=1, MaxPolls=100)

    assert execution["status"] == "FAILED"
    assert execution["error"] == "BackupJobFailed"
    assert "EXPIRED" in execution["cause"] and "expired before it started" in execution["cause"]
    assert time.monotonic() - started < 30, "a failed job must not wait out the timeout"


def test_the_schedule_backs_up_tagged_efs_file_systems(aws):
    efs = stack.client("efs")
    tagged = stack.create_efs(efs)["FileSystemId"]
    untagged = stack.create_efs(efs, tagged=False)["FileSystemId"]

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    [job] = target(summary, tagged)["created"]
    assert job
    assert untagged not in [t["targetId"] for t in summary["targets"]]


def test_the_schedule_deletes_expired_efs_recovery_points_by_the_rule(aws):
    """EFS under the same rule as the other kinds: ours and expired go once the night's point completed;
    the young, the newest and what is not ours stay, each with its reason."""
    fs = stack.create_efs(stack.client("efs"))
    expired = set(stack.create_recovery_points(deploy.BACKUP_VAULT, fs, [20, 30]))
    [young] = stack.create_recovery_points(deploy.BACKUP_VAULT, fs, [1])
    [not_ours] = stack.create_recovery_points(deploy.BACKUP_VAULT, fs, [60], ours=False)

    summary = run()

    result = target(summary, fs["FileSystemId"])
    assert summary["status"] == "SUCCEEDED", json.dumps(result)
    assert set(result["cleanup"]["deleted"]) == expired
    reasons = kept(result)
    assert reasons[young] == "TooYoung" and reasons[not_ours] == "NotOurs"
    [new] = [arn for arn, why in reasons.items() if why == "AmongNewest"]
    left = stack.recovery_points(stack.client("backup"), deploy.BACKUP_VAULT, fs)
    assert left == {young, not_ours, new}


def test_the_plan_shows_what_efs_cleanup_would_delete_and_changes_nothing(aws):
    fs = stack.create_efs(stack.client("efs"))
    [old] = stack.create_recovery_points(deploy.BACKUP_VAULT, fs, [30])
    [young] = stack.create_recovery_points(deploy.BACKUP_VAULT, fs, [1])
    before = stack.recovery_points(stack.client("backup"), deploy.BACKUP_VAULT, fs)

    summary = run(dry_run=True)

    result = target(summary, fs["FileSystemId"])
    assert result["cleanup"]["deleted"] == [old]
    # The point this run would make counts as the newest, as it will in the real run.
    assert kept(result)[young] == "TooYoung"
    assert stack.recovery_points(stack.client("backup"), deploy.BACKUP_VAULT, fs) == before


def test_the_sop_may_pass_only_the_stacks_role_and_start_jobs_only_into_its_vault(aws):
    fs = stack.create_efs(stack.client("efs"), tagged=False)["FileSystemId"]
    stack.client("backup").create_backup_vault(BackupVaultName="someone-elses-vault")
    other_role = "arn:aws:iam::123456789012:role/any-role-in-the-account"

    other_vault = "arn:aws:backup:us-east-1:123456789012:backup-vault:someone-elses-vault"
    for extra, action, resource in [
        ({"BackupJobIamRoleArn": other_role}, "iam:PassRole", other_role),
        ({"BackupVaultName": "someone-elses-vault"}, "backup:StartBackupJob", other_vault),
    ]:
        conftest.PROVOKED_DENIALS.add((action, resource))
        execution = run_sop(fs, PollSeconds=1, **extra)

        assert execution["status"] == "FAILED", extra
        # Refused as AWS refuses it, naming who, what and on what.
        assert "AccessDeniedException" in execution["cause"], execution["cause"]
        for named in ("snapmgmt-EfsBackupFunctionRole", action, resource):
            assert named in execution["cause"], (named, execution["cause"])


def readme_restore_command() -> dict:
    """The documented EFS restore command (docs/operations.md), its flags as StartRestoreJob's parameters."""
    readme = docs.command_pages_text()
    command = readme[readme.index("aws backup start-restore-job") :].split("\n```", 1)[0]
    flags = dict(re.findall(r"--([a-z-]+) (\"\$\(.*?\)\"|\S+)", command.replace("\\\n", " "), re.S))
    metadata = dict(pair.split("=", 1) for pair in flags["metadata"].split(","))
    return {"role": flags["iam-role-arn"], "point": flags["recovery-point-arn"], "metadata": metadata}


def test_the_readmes_restore_command_restores_with_the_stacks_backup_role(aws):
    command = readme_restore_command()
    assert "BackupRoleArn" in command["role"], "the restore command takes the role from the stack's output"
    fs = stack.create_efs(stack.client("efs"), tagged=False)["FileSystemId"]
    point = json.loads(run_sop(fs, PollSeconds=1)["output"])["RecoveryPointArn"]
    backup = stack.client("backup")

    for new_file_system in ("false", "true"):
        metadata = {**command["metadata"], "file-system-id": fs, "newFileSystem": new_file_system}
        job = backup.start_restore_job(
            RecoveryPointArn=point, IamRoleArn=deploy.BACKUP_ROLE_ARN, Metadata=metadata, ResourceType="EFS"
        )
        restore = backup.describe_restore_job(RestoreJobId=job["RestoreJobId"])
        deadline = time.monotonic() + 30
        while restore["Status"] == "RUNNING" and time.monotonic() < deadline:  # a new file system takes a while
            time.sleep(0.5)
            restore = backup.describe_restore_job(RestoreJobId=job["RestoreJobId"])

        assert restore["Status"] == "COMPLETED", restore


def test_each_new_recovery_point_is_copied_to_the_copy_vault_and_the_copies_there_are_cleaned(aws):
    fs = stack.create_efs(stack.client("efs"))
    in_copy_vault = {"region": conftest.COPY_REGION}
    [expired] = stack.create_recovery_points(conftest.COPY_BACKUP_VAULT, fs, [20], **in_copy_vault)
    [young] = stack.create_recovery_points(conftest.COPY_BACKUP_VAULT, fs, [2], **in_copy_vault)

    summary = run()

    assert summary["status"] == "SUCCEEDED", summary
    result = target(summary, fs["FileSystemId"])
    copied = result["copy"]
    assert copied["region"] == conftest.COPY_REGION and len(copied["copyIds"]) == 1, copied
    assert copied["cleanup"]["deleted"] == [expired]
    assert {k["id"]: k["reason"] for k in copied["cleanup"]["kept"]}[young] == "TooYoung"
    destination = stack.client("backup", region=conftest.COPY_REGION)
    [copy] = copied["copyIds"]
    tags = destination.list_tags(ResourceArn=copy)["Tags"]
    [source] = [arn for arn, why in kept(result).items() if why == "AmongNewest"]
    assert (tags["snapmgmt:SourceId"], tags["snapmgmt:SourceRegion"]) == (source, stack.REGION)
    assert tags["snapmgmt:RunId"] == summary["execution"].split(":")[-1]
    assert tags["snapmgmt:Stack"] == stack.STACK_ID, "the copy says which stack made its source"
    left = stack.recovery_points(destination, conftest.COPY_BACKUP_VAULT, fs)
    assert left == {young, copy}


def test_a_copy_into_a_vault_gone_from_the_copy_region_fails_that_target_and_the_next_run_copies(aws):
    fs = stack.create_efs(stack.client("efs"))
    destination = stack.client("backup", region=conftest.COPY_REGION)
    destination.delete_backup_vault(BackupVaultName=conftest.COPY_BACKUP_VAULT)

    failed = run(time="2026-11-26T02:00:00Z")

    assert failed["status"] == "FAILED", failed
    result = target(failed, fs["FileSystemId"])
    assert result["error"] == "CopyFailed" and conftest.COPY_BACKUP_VAULT in result["cause"], result

    deploy.deploy_copy_vault()
    again = run(time="2026-11-27T02:00:00Z")

    assert again["status"] == "SUCCEEDED", again
    assert len(target(again, fs["FileSystemId"])["copy"]["copyIds"]) == 1
