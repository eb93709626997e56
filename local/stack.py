"""Helpers over the local stack, for the seed script and the end-to-end tests: AWS clients aimed at the
emulator, the emulator's control routes, and FSx resources made through the AWS API."""

import contextlib
import json
import os
import time
import urllib.request

import boto3

ACCOUNT_ID = "123456789012"
# The stack's Region: the suite's stack's, or another's (SNAPMGMT_STACK_REGION, as iam_template.py reads it).
REGION = os.environ.get("SNAPMGMT_STACK_REGION") or "us-east-1"
# The local stack's identity, as the template's STACK_ID gives it (<stack name>@<Region>): on every backup it makes.
STACK_ID = f"{os.environ.get('SNAPMGMT_STACK_NAME') or 'snapmgmt'}@{REGION}"
TARGET_TAG = {"Key": "ResourceType", "Value": "SnapshotMgmtTarget"}
DAY = 86_400


def client(service: str, url: str = None, config=None, region: str = None):
    """A client of the local stack (`url`, or AWS_ENDPOINT_URL), or of AWS itself when neither is set; of the
    stack's Region unless `region` names another."""
    url = url or os.environ.get("AWS_ENDPOINT_URL")
    if not url:
        return boto3.client(service, config=config, region_name=region)
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region or REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    )


def control(path: str, body: dict, url: str = None) -> dict:
    """POSTs to one of the emulator's control routes (moto's /moto-api/ and ours under /moto-api/snapmgmt/)."""
    request = urllib.request.Request(
        (url or os.environ["AWS_ENDPOINT_URL"]) + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")


def control_get(path: str, url: str = None) -> dict:
    """GETs one of the emulator's control routes."""
    with urllib.request.urlopen((url or os.environ["AWS_ENDPOINT_URL"]) + path, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def our_tags(fs_id: str, stack_id: str = STACK_ID) -> list:
    """The tags of a backup this stack made (`stack_id`: another's; None: one from before backups named
    their stack)."""
    tags = [{"Key": "ManagedBy", "Value": "snapmgmt"}, {"Key": "snapmgmt:TargetId", "Value": fs_id}]
    return tags + ([{"Key": "snapmgmt:Stack", "Value": stack_id}] if stack_id else [])


def create_file_system(fsx, kind: str = "WINDOWS", tagged: bool = True, name: str = None, **config) -> str:
    tags = [TARGET_TAG] if tagged else []
    tags.append({"Key": "Name", "Value": name or ("target" if tagged else "not-a-target")})
    if kind == "WINDOWS":
        config.setdefault("WindowsConfiguration", {"ThroughputCapacity": 8})
    return fsx.create_file_system(
        FileSystemType=kind, StorageCapacity=1200, SubnetIds=["subnet-0123456789abcdef0"], Tags=tags, **config
    )["FileSystem"]["FileSystemId"]


def create_backup(
    fsx, fs_id: str, age_days: float, ours: bool, lifecycle: str = "AVAILABLE", url: str = None, stack_id=STACK_ID
) -> str:
    """A backup made through FSx, then aged (and its lifecycle set) through the emulator's control route; ours:
    made by the stack `stack_id` names (None: before backups named their stack)."""
    tags = our_tags(fs_id, stack_id) if ours else []
    tags.append({"Key": "Name", "Value": f"demo: {age_days:g} days old"})
    # An ONTAP volume (fsvol-) is backed up by its own id.
    source = {"VolumeId": fs_id} if fs_id.startswith("fsvol-") else {"FileSystemId": fs_id}
    backup_id = fsx.create_backup(**source, Tags=tags)["Backup"]["BackupId"]
    created = time.time() - age_days * DAY
    control(
        "/moto-api/snapmgmt/fsx/backup", {"backupId": backup_id, "creationTime": created, "lifecycle": lifecycle}, url
    )
    return backup_id


def script_next_backups(fs_id: str, outcomes: list, url: str = None, region: str = None) -> None:
    """Sets how the file system's next backups end, e.g. [{"lifecycle": "FAILED", "seconds": 0}]; with
    `region`, its next copies into that Region."""
    body = {"fileSystemId": fs_id, "outcomes": outcomes, **({"region": region} if region else {})}
    control("/moto-api/snapmgmt/fsx/next-backups", body, url)


def create_ontap_volume(fsx, tagged: bool = True, name: str = "data") -> tuple:
    """An ONTAP file system (not tagged) with a storage virtual machine and one read-write volume, tagged as
    a target or not; returns the file system's and the volume's ids."""
    fs_id = create_file_system(
        fsx,
        kind="ONTAP",
        tagged=False,
        OntapConfiguration={"DeploymentType": "SINGLE_AZ_1", "ThroughputCapacity": 128},
    )
    svm = fsx.create_storage_virtual_machine(FileSystemId=fs_id, Name="svm1")["StorageVirtualMachine"]
    tags = ([TARGET_TAG] if tagged else []) + [{"Key": "Name", "Value": name}]
    volume = fsx.create_volume(
        VolumeType="ONTAP",
        Name=name,
        OntapConfiguration={"StorageVirtualMachineId": svm["StorageVirtualMachineId"], "SizeInMegabytes": 1024},
        Tags=tags,
    )["Volume"]
    return fs_id, volume["VolumeId"]


def backup_ids(fsx, fs_id: str) -> set:
    """The backups of a file system, or of an ONTAP volume (fsvol-)."""
    by = "volume-id" if fs_id.startswith("fsvol-") else "file-system-id"
    pages = fsx.get_paginator("describe_backups").paginate(Filters=[{"Name": by, "Values": [fs_id]}])
    return {b["BackupId"] for page in pages for b in page["Backups"]}


def create_instance(
    ec2, tagged: bool = True, volumes: int = 1, name: str = None, mode: str = None, windows: bool = False, profile=None
) -> str:
    """A running instance with `volumes` data volumes, tagged as a target or not, and with its own
    snapshot mode (`snapmgmt:SnapshotMode`) when given; Linux, or Windows, with the instance profile named."""
    # moto's list of images begins with Windows ones.
    image = next(i["ImageId"] for i in ec2.describe_images()["Images"] if (i.get("Platform") == "windows") == windows)
    tags = [TARGET_TAG] if tagged else []
    if mode:
        tags.append({"Key": "snapmgmt:SnapshotMode", "Value": mode})
    tags.append({"Key": "Name", "Value": name or ("target" if tagged else "not-a-target")})
    mappings = [{"DeviceName": f"/dev/sd{chr(ord('f') + n)}", "Ebs": {"VolumeSize": 8}} for n in range(volumes)]
    return ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        BlockDeviceMappings=mappings,
        TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        **({"IamInstanceProfile": {"Name": profile}} if profile else {}),
    )["Instances"][0]["InstanceId"]


def instance_profile_role(name: str, url: str = None) -> str:
    """A role EC2 may assume and an instance profile of the same name holding it, as a user makes one; its ARN."""
    import iam_template

    iam = client("iam", url)
    trust = json.dumps(iam_template.EC2_TRUST)
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return arn


# The instance profile deploy.py makes for Windows targets, its role with the stack's VssInstancePolicy.
WINDOWS_PROFILE = "snapmgmt-local-windows-instance"


def windows_instance(ec2, volumes: int = 1, profile=WINDOWS_PROFILE, components: bool = True, url: str = None) -> str:
    """A Windows target as the README asks for one: an instance profile whose role has VssInstancePolicy, and
    AwsVssComponents installed through AWS-ConfigureAWSPackage (the emulator's model, moto_ext/vss.py)."""
    instance = create_instance(ec2, volumes=volumes, name="windows", windows=True, profile=profile)
    if components:
        ssm = client("ssm", url)
        parameters = {"action": ["Install"], "name": ["AwsVssComponents"]}
        document = "AWS-ConfigureAWSPackage"
        command = ssm.send_command(InstanceIds=[instance], DocumentName=document, Parameters=parameters)
        invocation = ssm.get_command_invocation(CommandId=command["Command"]["CommandId"], InstanceId=instance)
        assert invocation["Status"] == "Success", invocation
    return instance


def vss(instance_id: str, components=None, failure: str = None, url: str = None) -> None:
    """The AwsVssComponents version installed on the instance (None: not installed), and a VSS failure."""
    body = {"instanceId": instance_id, "components": components, "failure": failure}
    control("/moto-api/snapmgmt/ec2/vss", body, url)


def create_snapshot(
    ec2, instance_id: str, age_days: float, ours: bool, run: str = "seeded", url: str = None, stack_id: str = STACK_ID
) -> str:
    """A snapshot of the instance's first volume, aged through the emulator's control route; ours: made by the
    stack `stack_id` names (None: before backups named their stack)."""
    volume = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]
    tags = [{"Key": "Name", "Value": f"demo: {age_days:g} days old"}]
    if ours:
        tags += [*our_tags(instance_id, stack_id), {"Key": "snapmgmt:RunId", "Value": run}]
    snapshot_id = ec2.create_snapshot(
        VolumeId=volume[0]["Ebs"]["VolumeId"],
        # What snapmgmt writes on its own: the Description names the instance and the run.
        Description=f"snapmgmt {instance_id} {run}" if ours else "someone else's",
        TagSpecifications=[{"ResourceType": "snapshot", "Tags": tags}],
    )["SnapshotId"]
    started = time.time() - age_days * DAY
    control(
        "/moto-api/snapmgmt/ec2/snapshot", {"snapshotId": snapshot_id, "startTime": started, "state": "completed"}, url
    )
    return snapshot_id


def script_next_automations(instance_id: str, outcomes: list, url: str = None) -> None:
    """Sets how the instance's next SSM automations end, e.g. [{"status": "Failed", "snapshots": True}]."""
    control("/moto-api/snapmgmt/ssm/next-automations", {"instanceId": instance_id, "outcomes": outcomes}, url)


@contextlib.contextmanager
def linux_sandbox(instance_id: str, volumes: list, binds: list = (), url: str = None):
    """The instance runs its shell commands for real (moto_ext/sandbox.py), with `volumes` ({"mount", "fstype"})
    mounted as its data file systems; thawed and gone at the end, whatever happened."""
    body = {"instanceId": instance_id, "volumes": volumes, "binds": list(binds)}
    control("/moto-api/snapmgmt/ec2/sandbox", body, url)
    try:
        yield
    finally:
        control("/moto-api/snapmgmt/ec2/sandbox", {"instanceId": instance_id, "remove": True}, url)
        control("/moto-api/snapmgmt/ssm/snapshot-delay", {"instanceId": instance_id, "seconds": 0}, url)


def in_sandbox(instance_id: str, commands: str, background: bool = False, url: str = None) -> dict:
    """Runs commands in the instance's sandbox: {"exitCode", "stdout", "stderr"} (or, in the background, none)."""
    body = {"instanceId": instance_id, "commands": commands, "background": background}
    return control("/moto-api/snapmgmt/ec2/sandbox-run", body, url)


def slow_snapshots(instance_id: str, seconds: float, error: str = None, url: str = None) -> None:
    """The instance's CreateSnapshots step takes `seconds`, then fails with `error` when given."""
    body = {"instanceId": instance_id, "seconds": seconds, "error": error}
    control("/moto-api/snapmgmt/ssm/snapshot-delay", body, url)


def snapshots(ec2, instance_id: str) -> list:
    """The account's snapshots tagged for the instance."""
    pages = ec2.get_paginator("describe_snapshots").paginate(
        OwnerIds=["self"], Filters=[{"Name": "tag:snapmgmt:TargetId", "Values": [instance_id]}]
    )
    return [s for page in pages for s in page["Snapshots"]]


def create_efs(efs, tagged: bool = True, name: str = None) -> dict:
    """An EFS file system, tagged as a target or not; its description (FileSystemId, FileSystemArn)."""
    tags = [TARGET_TAG] if tagged else []
    tags.append({"Key": "Name", "Value": name or ("target" if tagged else "not-a-target")})
    return efs.create_file_system(CreationToken=f"{name or 'efs'}-{time.time_ns()}", Tags=tags)


def create_recovery_points(
    vault: str, fs: dict, ages_days: list, ours: bool = True, url: str = None, region: str = None, stack_id=STACK_ID
) -> list:
    """Recovery points of an EFS file system in a vault (of `region`, else the stack's), as completed jobs
    leave them, aged; their ARNs. Ours: made by the stack `stack_id` names (None: before the stack tag)."""
    tags = {t["Key"]: t["Value"] for t in our_tags(fs["FileSystemId"], stack_id)} | {"snapmgmt:RunId": "seeded"}
    points = [
        {"tags": tags if ours else {"Name": "made by hand"}, "creationDate": time.time() - age * DAY}
        for age in ages_days
    ]
    body = {
        "vault": vault,
        "resourceArn": fs["FileSystemArn"],
        "points": points,
        **({"region": region} if region else {}),
    }
    return control("/moto-api/snapmgmt/backup/recovery-points", body, url)["recoveryPointArns"]


def recovery_points(backup, vault: str, fs: dict) -> set:
    pages = backup.get_paginator("list_recovery_points_by_backup_vault").paginate(
        BackupVaultName=vault, ByResourceArn=fs["FileSystemArn"]
    )
    return {p["RecoveryPointArn"] for page in pages for p in page["RecoveryPoints"]}


def script_next_backup_jobs(resource_arn: str, outcomes: list, url: str = None) -> None:
    """Sets how the resource's next AWS Backup jobs end, e.g. [{"state": "FAILED", "message": "..."}]."""
    control("/moto-api/snapmgmt/backup/next-jobs", {"resourceArn": resource_arn, "outcomes": outcomes}, url)


def set_faults(rules: list, seed: int = 1) -> None:
    """Sets the fault proxy's rules between the functions and the emulator (none: everything passes)."""
    request = urllib.request.Request(
        os.environ["SNAPMGMT_FAULT_PROXY"] + "/__faults",
        data=json.dumps({"rules": rules, "seed": seed}).encode(),
        method="PUT",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def faults() -> dict:
    """What the fault proxy saw and injected since its rules were last set, per operation."""
    with urllib.request.urlopen(os.environ["SNAPMGMT_FAULT_PROXY"] + "/__faults", timeout=10) as response:
        return json.loads(response.read())
