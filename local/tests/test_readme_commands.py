"""The documentation's `aws` commands, run as written through the AWS CLI (awscli, local/.cli) against the local
stack.

Every `aws ...` command of the pages for deploying and operating (docs/deploy.md, operations.md, safety.md: in
their shell blocks and in their text) must be a case below: run, with the README's placeholders replaced by the
local stack's names, and its effect checked; or listed in CANNOT_RUN_LOCALLY with the reason. A command added
to the README without a case fails the first test, so none goes untried.

The local stack has no CloudFormation stack (deploy.py deploys its pieces directly). So that the README's
lookups of the stack's outputs run as written, the test makes a stack named snapmgmt in the emulator whose
outputs are the local stack's: the names the real stack's outputs hold."""

import json
import os
import pathlib
import re
import subprocess

import deploy
import pytest
import stack
import workflow

import docs

ROOT = pathlib.Path(__file__).resolve().parents[2]
AWS_CLI = ROOT / "local" / ".cli" / "bin" / "aws"

VSS_POLICY_ARN = deploy.iam_template.Resolver(deploy.iam_template.transformed_template()).arn("VssInstancePolicy")
CANNOT_RUN_LOCALLY = {
    "aws fsx create-file-system-from-backup": "moto has no CreateFileSystemFromBackup",
    "aws fsx create-volume-from-backup": "moto has no CreateVolumeFromBackup",
    "aws ec2 restore-snapshot-from-recycle-bin": "moto has no Recycle Bin",
    "aws cloudformation describe-stack-resources": "the local stack is no CloudFormation stack: no resources to list",
}


def readme_commands() -> list[str]:
    """Every logical line of a shell block, and every code span of the text, that runs `aws`."""
    body = docs.command_pages_text()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", body, re.S):
        commands += [line for line in logical_lines(block) if runs_aws(line)]
    commands += [span for span in re.findall(r"`(aws [^`]+)`", body)]
    return commands


def logical_lines(block: str) -> list[str]:
    """The block's commands: continued lines (a trailing backslash or pipe) joined, comments dropped."""
    lines, current = [], ""
    for raw in block.splitlines():
        line = re.sub(r"\s+#\s.*$", "", raw) if not raw.lstrip().startswith("#") else ""
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1].rstrip() + " "
        elif line.rstrip().endswith("|"):
            current += line.strip() + " "
        else:
            current += line.strip()
            if current:
                lines.append(current)
            current = ""
    return lines


def runs_aws(line: str) -> bool:
    return re.search(r"(^|\$\(|\|\s*)aws\s", line) is not None


@pytest.fixture
def names(aws):
    """The resources the README's placeholders stand for, made in the local stack; placeholder -> local name."""
    fsx, ec2, efs = aws, stack.client("ec2"), stack.client("efs")
    fs_id = stack.create_file_system(fsx, tagged=False)
    ontap_fs, volume_id = stack.create_ontap_volume(fsx, tagged=False)
    instance = stack.create_instance(ec2, tagged=False)
    other_instance = stack.create_instance(ec2, tagged=False)
    snapshot = stack.create_snapshot(ec2, instance, age_days=1, ours=True)
    file_system = stack.create_efs(efs, tagged=False)
    [point] = stack.create_recovery_points(deploy.BACKUP_VAULT, file_system, [1])
    return {
        # Longest first: a placeholder that contains another is replaced before it.
        "arn:aws:fsx:REGION:ACCOUNT:volume/fs-0123456789abcdef0/fsvol-0123456789abcdef0": (
            f"arn:aws:fsx:{stack.REGION}:{stack.ACCOUNT_ID}:volume/{ontap_fs}/{volume_id}"
        ),
        "arn:aws:backup:REGION:ACCOUNT:recovery-point:ID": point,
        "snapmgmt-ACCOUNT-REGION": deploy.INVENTORY_BUCKET,
        "fs-0123456789abcdef0": fs_id,
        "i-0123456789abcdef0": instance,
        "i-0fedcba9876543210": other_instance,
        "snap-0123456789abcdef0": snapshot,
        "fs-01234567": file_system["FileSystemId"],
        "REGION": stack.REGION,
        "ACCOUNT": stack.ACCOUNT_ID,
        "BUCKET": deploy.INVENTORY_BUCKET,
        "fs-...": fs_id,
        "i-...": instance,
        "snap-...": snapshot,
    }


def substitute(command: str, names: dict) -> str:
    for placeholder in sorted(names, key=len, reverse=True):
        command = command.replace(placeholder, names[placeholder])
    return command


def run(command: str, check: bool = True) -> subprocess.CompletedProcess:
    """The command through bash, with the CLI first on the PATH and the local stack as its endpoint."""
    env = dict(os.environ, PATH=f"{AWS_CLI.parent}:{os.environ['PATH']}", AWS_DEFAULT_REGION=stack.REGION)
    env.update(AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_PAGER="")
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", command], env=env, capture_output=True, text=True)
    if check:
        assert done.returncode == 0, f"{command}\n{done.stderr}"
    return done


def the(commands: list, start: str) -> str:
    [command] = [c for c in commands if c.startswith(start)]
    return command


def tags_of_fsx(arn: str) -> dict:
    return {t["Key"]: t["Value"] for t in stack.client("fsx").list_tags_for_resource(ResourceARN=arn)["Tags"]}


def tags_of_ec2(resource: str) -> dict:
    found = stack.client("ec2").describe_tags(Filters=[{"Name": "resource-id", "Values": [resource]}])["Tags"]
    return {t["Key"]: t["Value"] for t in found}


def tags_of_efs(fs_id: str) -> dict:
    return {t["Key"]: t["Value"] for t in stack.client("efs").list_tags_for_resource(ResourceId=fs_id)["Tags"]}


# Each README command (by how it starts) and the test that runs it.
CASES = {
    "aws fsx tag-resource --resource-arn arn:aws:fsx:REGION:ACCOUNT:file-system/": "tagging",
    "aws fsx tag-resource --resource-arn arn:aws:fsx:REGION:ACCOUNT:volume/": "tagging",
    "aws ec2 create-tags --resources i-0123456789abcdef0 --tags Key=ResourceType": "tagging",
    "aws ec2 create-tags --resources i-0fedcba9876543210": "tagging",
    "aws efs tag-resource --resource-id fs-01234567 --tags Key=ResourceType": "tagging",
    "aws ec2 create-tags --resources i-0123456789abcdef0 --tags 'Key=snapmgmt:Retention": "tagging",
    "aws efs tag-resource --resource-id fs-01234567 --tags 'Key=snapmgmt:Retention": "tagging",
    "aws backup create-backup-vault --region us-west-2": "copy vault",
    'TRIGGER="$(aws cloudformation describe-stacks': "a run and its report",
    "aws stepfunctions describe-execution": "a run and its report",
    "aws s3 cp s3://BUCKET/reports/": "a run and its report",
    "aws stepfunctions start-execution --state-machine-arn": "a verify run",
    "aws ec2 create-volume --snapshot-id": "restores",
    "aws ec2 attach-volume": "restores",
    "aws backup start-restore-job": "restores",
    "aws fsx describe-backups": "finding backups",
    "aws ec2 describe-snapshots": "finding backups",
    "aws backup list-recovery-points-by-backup-vault": "finding backups",
    "aws backup delete-recovery-point": "uninstall",
    "aws backup delete-backup-vault": "uninstall",
    "aws s3 rb --force": "uninstall",
    "aws s3api list-object-versions": "uninstall",
    "aws s3api delete-bucket": "uninstall",
    "aws logs describe-log-groups": "uninstall",
    "aws sts get-caller-identity": "credentials",
    "aws ssm send-command --document-name AWS-ConfigureAWSPackage": "windows prerequisites",
    "aws iam attach-role-policy --role-name INSTANCE_ROLE": "windows prerequisites",
}


def test_every_aws_command_of_the_readme_is_run_here_or_says_why_not():
    commands = readme_commands()
    assert len(commands) > 20
    for command in commands:
        cases = [start for start in (*CASES, *CANNOT_RUN_LOCALLY) if command.startswith(start)]
        assert len(cases) == 1, f"the README's command has {len(cases)} cases here: {command}"
    for start in (*CASES, *CANNOT_RUN_LOCALLY):
        assert any(c.startswith(start) for c in commands), f"no README command starts with {start!r} any more"


def test_the_credentials_check_and_the_tagging_commands_do_what_the_readme_says(names):
    commands = readme_commands()
    assert "123456789012" in run(the(commands, "aws sts get-caller-identity")).stdout
    for command in commands:
        if CASES.get(next((s for s in CASES if command.startswith(s)), "")) == "tagging":
            run(substitute(command, names))
    fs_arn = f"arn:aws:fsx:{stack.REGION}:{stack.ACCOUNT_ID}:file-system/{names['fs-0123456789abcdef0']}"
    volume_arn = names["arn:aws:fsx:REGION:ACCOUNT:volume/fs-0123456789abcdef0/fsvol-0123456789abcdef0"]
    instance, efs = names["i-0123456789abcdef0"], names["fs-01234567"]
    assert tags_of_fsx(fs_arn)["ResourceType"] == "SnapshotMgmtTarget"
    assert tags_of_fsx(volume_arn)["ResourceType"] == "SnapshotMgmtTarget"
    assert tags_of_ec2(instance)["ResourceType"] == "SnapshotMgmtTarget"
    assert tags_of_ec2(instance)["snapmgmt:Retention"] == "daily=7 weekly=4 monthly=12"
    assert tags_of_ec2(names["i-0fedcba9876543210"])["snapmgmt:SnapshotMode"] == "direct"
    assert tags_of_efs(efs)["ResourceType"] == "SnapshotMgmtTarget"
    assert tags_of_efs(efs)["snapmgmt:Retention"] == "days=30"


def test_the_windows_prerequisites_install_the_vss_components_and_attach_the_policy(names):
    iam = stack.client("iam")
    stack.instance_profile_role("app-server")
    ec2 = stack.client("ec2")
    windows = stack.windows_instance(ec2, profile="app-server", components=False)
    local = {**names, "i-0123456789abcdef0": windows, "INSTANCE_ROLE": "app-server"}
    commands = readme_commands()
    install = the(commands, "aws ssm send-command --document-name AWS-ConfigureAWSPackage")
    sent = json.loads(run(substitute(install, local)).stdout)
    invocation = stack.client("ssm").get_command_invocation(CommandId=sent["Command"]["CommandId"], InstanceId=windows)
    assert invocation["Status"] == "Success" and "AwsVssComponents" in invocation["StandardOutputContent"]
    run(substitute(the(commands, "aws iam attach-role-policy --role-name INSTANCE_ROLE"), local))
    attached = iam.list_attached_role_policies(RoleName="app-server")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [VSS_POLICY_ARN]


def test_the_copy_vault_command_makes_the_vault_in_the_copy_region(names):
    backup = stack.client("backup", region="us-west-2")
    backup.delete_backup_vault(BackupVaultName="snapmgmt-copies")  # deploy.py made it: the README makes it here
    run(the(readme_commands(), "aws backup create-backup-vault --region us-west-2"))
    assert "snapmgmt-copies" in [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]


def test_the_trigger_lookup_a_run_and_its_report_read_as_the_readme_says(names):
    commands = readme_commands()
    lookup = the(commands, 'TRIGGER="$(aws cloudformation describe-stacks')
    assert run(f'{lookup}; echo "$TRIGGER"').stdout.strip() == "trigger"

    # The functions answer synchronous invokes themselves (cargo lambda watch), as workflow.py calls them.
    lambda_client = stack.client("lambda", os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    started = workflow.invoke(lambda_client, "trigger", workflow.scheduled_event(dry_run=True, poll_seconds=1))
    sfn = stack.client("stepfunctions")
    workflow.wait_for(sfn, started["executionArn"], timeout=120)
    command = the(commands, "aws stepfunctions describe-execution").replace("ARN", started["executionArn"])
    output = json.loads(run(command).stdout)
    report = output["report"]
    run_id = started["executionArn"].split(":")[-1]
    assert report["key"] == f"reports/{run_id}.json"

    command = substitute(the(commands, "aws s3 cp s3://BUCKET/reports/"), names)
    command = command.replace("snapmgmt-20261126T020000Z", run_id)
    assert json.loads(run(command).stdout)["dryRun"] is True


def test_the_verify_command_starts_a_verify_run_of_the_stacks_targets(names):
    started = json.loads(run(the(readme_commands(), "aws stepfunctions start-execution --state-machine-arn")).stdout)
    assert ":execution:snapmgmt-verify:" in started["executionArn"]
    execution = workflow.wait_for(stack.client("stepfunctions"), started["executionArn"], timeout=120)
    # The fixture's resources are not tagged: a run over no targets, recorded.
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["totals"]["targets"] == 0


def test_the_restore_commands_make_what_the_readme_says(names):
    commands = readme_commands()
    ec2 = stack.client("ec2")
    created = json.loads(run(substitute(the(commands, "aws ec2 create-volume --snapshot-id"), names)).stdout)
    assert created["SnapshotId"] == names["snap-0123456789abcdef0"]
    # Attached to an instance without a volume at /dev/sdf: the README's device.
    bare = ec2.run_instances(ImageId=ec2.describe_images()["Images"][0]["ImageId"], MinCount=1, MaxCount=1)
    names = {
        **names,
        "vol-0123456789abcdef0": created["VolumeId"],
        "i-0123456789abcdef0": bare["Instances"][0]["InstanceId"],
    }
    run(substitute(the(commands, "aws ec2 attach-volume"), names))
    attachments = ec2.describe_volumes(VolumeIds=[created["VolumeId"]])["Volumes"][0]["Attachments"]
    assert [(a["InstanceId"], a["Device"]) for a in attachments] == [(names["i-0123456789abcdef0"], "/dev/sdf")]

    job = json.loads(run(substitute(the(commands, "aws backup start-restore-job"), names)).stdout)["RestoreJobId"]
    assert stack.client("backup").describe_restore_job(RestoreJobId=job)["IamRoleArn"] == deploy.BACKUP_ROLE_ARN


def test_the_commands_that_find_a_resources_backups_are_accepted(names):
    commands = readme_commands()
    for start in (
        "aws fsx describe-backups",
        "aws ec2 describe-snapshots",
        "aws backup list-recovery-points-by-backup-vault",
    ):
        run(substitute(the(commands, start), names))
    found = run(substitute(the(commands, "aws ec2 describe-snapshots"), names) + " --query 'Snapshots[].SnapshotId'")
    assert names["snap-0123456789abcdef0"] in found.stdout


def test_uninstall_empties_and_deletes_what_the_stack_leaves(names):
    commands = readme_commands()
    s3, backup, logs = stack.client("s3"), stack.client("backup"), stack.client("logs")
    bucket = deploy.INVENTORY_BUCKET
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for n in range(3):
        s3.put_object(Bucket=bucket, Key="reports/run.json", Body=json.dumps({"n": n}))
    for name in ("snapmgmt-TriggerLogGroup-ABC123", "snapmgmt-CleanupLogGroup-DEF456"):
        logs.create_log_group(logGroupName=name)

    # As the README says, `aws s3 rb --force` does not delete a versioned bucket.
    assert run(f"aws s3 rb s3://{bucket} --force", check=False).returncode != 0

    point = names["arn:aws:backup:REGION:ACCOUNT:recovery-point:ID"]
    run(substitute(the(commands, "aws backup delete-recovery-point"), {**names, "ARN": point}))
    run(the(commands, "aws backup delete-backup-vault"))
    assert deploy.BACKUP_VAULT not in [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]

    assignment = "BUCKET=snapmgmt-ACCOUNT-REGION"
    assert assignment in docs.command_pages_text()
    prefix = f"BUCKET={bucket}; "
    run(prefix + the(commands, "aws s3api list-object-versions"))
    run(prefix + the(commands, "aws s3api delete-bucket"))
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    run(the(commands, "aws logs describe-log-groups"))
    assert logs.describe_log_groups(logGroupNamePrefix="snapmgmt-")["logGroups"] == []
