#!/usr/bin/env python3
"""Deploys the state machines of statemachine/ to an endpoint, unchanged but for the substitutions.

SAM replaces each ${Name} of a definition by the DefinitionSubstitutions of template.yaml; here each
function's ARN is the ARN it has in the emulator's account, named as cargo lambda watch serves it.
Creates each state machine, or updates it when it exists. Prints their ARNs as JSON.

Usage: deploy.py ENDPOINT

The stack is the suite's (snapmgmt in us-east-1) unless SNAPMGMT_STACK_NAME and SNAPMGMT_STACK_REGION name
another, deployed beside it on the same emulator (local/add_stack.py): its own names, Region and roles.

Also creates what the template creates beside them: the SSM document, the backup vault, the bucket, the
notification topic and the functions' event-invoke configs (asynchronous retries, on-failure destinations).
"""

import functools
import io
import json
import os
import pathlib
import re
import sys
import zipfile

import cfnlint.decode
import iam_template
import stack

ROOT = pathlib.Path(__file__).resolve().parent.parent
ACCOUNT_ID = stack.ACCOUNT_ID
REGION = stack.REGION

STACK_NAME = iam_template.STACK_NAME
# DefinitionSubstitutions of template.yaml: name -> the function it names.
FUNCTIONS = {
    f"{logical}Arn": iam_template.PHYSICAL_NAMES[logical]
    for logical in (
        "CheckInProgressFunction",
        "BackupFsxFunction",
        "SnapshotEbsFunction",
        "CleanupFunction",
        "EfsBackupFunction",
        "ReportFunction",
        "VerifyFunction",
    )
}
# The stack's bucket (the template's InventoryBucket): inventories, the Distributed Maps' results, reports.
INVENTORY_BUCKET = f"{STACK_NAME}-{ACCOUNT_ID}-{REGION}"
STATE_MACHINES = {
    f"{STACK_NAME}-snapshot-mgmt": "snapshot-mgmt.asl.json",
    f"{STACK_NAME}-efs-backup": "efs-backup.asl.json",
    f"{STACK_NAME}-verify": "verify.asl.json",
}
# The vault the scheduled EFS backups go to (the template's BackupVault), and the role AWS Backup runs as.
BACKUP_VAULT = f"{STACK_NAME}-vault"
BACKUP_ROLE_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/{iam_template.PHYSICAL_NAMES['BackupRole']}"
# The SSM Automation document of template.yaml, under the name the functions are given locally.
SNAPSHOT_DOCUMENT = ("EbsSnapshotDocument", iam_template.PHYSICAL_NAMES["EbsSnapshotDocument"])


def substitute(definition: str) -> str:
    def function_arn(match: re.Match) -> str:
        name = match.group(1)
        if name == "InventoryBucket":
            return INVENTORY_BUCKET
        if name not in FUNCTIONS:
            raise SystemExit(f"deploy: no substitution for ${{{name}}}")
        return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{FUNCTIONS[name]}"

    return re.sub(r"\$\{([A-Za-z0-9]+)\}", function_arn, definition)


@functools.lru_cache(maxsize=1)
def principals() -> dict:
    """The stack's roles, resolved from template.yaml (local/iam_template.py)."""
    return iam_template.principals()


def main() -> None:
    print(json.dumps(deploy(sys.argv[1])))


def deploy(url: str = None) -> dict:
    """Creates or updates the SSM document, the backup vault and every state machine; returns state
    machine name -> ARN."""
    deploy_document(stack.client("ssm", url))
    # S3 wants the Region named for a bucket outside us-east-1.
    location = {} if REGION == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": REGION}}
    stack.client("s3", url).create_bucket(Bucket=INVENTORY_BUCKET, **location)
    backup = stack.client("backup", url)
    if BACKUP_VAULT not in [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]:
        backup.create_backup_vault(BackupVaultName=BACKUP_VAULT)
    deploy_copy_vault(url)
    deploy_copy_svm(url)
    deploy_instance_roles(url)
    # Every principal of the template acts with exactly its policy from here on.
    stack.control("/moto-api/snapmgmt/iam/principals", principals(), url)
    deploy_notifications(url)
    deploy_stack_record(url)
    deploy_function_records(url)
    deploy_validation_hook(url)
    roles = principals()["stateMachines"]
    sfn = stack.client("stepfunctions", url)
    existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
    deployed = {}
    for name, file in STATE_MACHINES.items():
        definition = substitute((ROOT / "statemachine" / file).read_text())
        # It runs as the role the template gives it.
        role = roles[f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}"]
        if name in existing:
            sfn.update_state_machine(stateMachineArn=existing[name], definition=definition, roleArn=role)
            deployed[name] = existing[name]
        else:
            created = sfn.create_state_machine(name=name, definition=definition, roleArn=role)
            deployed[name] = created["stateMachineArn"]
    return deployed


def deploy_validation_hook(url: str = None) -> None:
    """The operator's validation hook the stack names (VerifyValidationFunctionArn), if any: a function of
    theirs, not the stack's, so here one that answers valid until a test scripts otherwise (its calls kept)."""
    template = iam_template.transformed_template()
    arn = str(iam_template.Resolver(template).resolve({"Ref": "VerifyValidationFunctionArn"}) or "")
    if arn:
        stack.control(
            "/moto-api/snapmgmt/lambda/answers", {"function": arn.split(":function:")[-1], "answers": []}, url
        )


def deploy_stack_record(url: str = None) -> None:
    """The stack as CloudFormation describes it (its parameters and outputs, resolved as a deploy resolves
    them), so that what finds the stack by name (the snapmgmt command line) finds it here as on AWS. The
    template's resources are made above, one by one: the record holds a placeholder resource only."""
    template = iam_template.transformed_template()
    resolver = iam_template.Resolver(template)
    outputs = {
        key: {"Value": str(resolver.resolve(output["Value"])), "Description": output.get("Description", key)}
        for key, output in template.get("Outputs", {}).items()
    }
    body = {
        "Parameters": {name: {"Type": "String"} for name in template["Parameters"]},
        "Resources": {"Placeholder": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
        "Outputs": outputs,
    }
    values = [{"ParameterKey": n, "ParameterValue": str(resolver.parameters[n])} for n in template["Parameters"]]
    cloudformation = stack.client("cloudformation", url)
    live = [s for s in cloudformation.list_stacks()["StackSummaries"] if s["StackStatus"] != "DELETE_COMPLETE"]
    if any(s["StackName"] == STACK_NAME for s in live):
        try:
            cloudformation.update_stack(StackName=STACK_NAME, TemplateBody=json.dumps(body), Parameters=values)
        except cloudformation.exceptions.ClientError as error:
            if "No updates are to be performed" not in str(error):
                raise
    else:
        cloudformation.create_stack(StackName=STACK_NAME, TemplateBody=json.dumps(body), Parameters=values)


def deploy_function_records(url: str = None) -> None:
    """Each function as Lambda describes it (its role, its environment), so that what reads a function's
    settings (`snapmgmt backups`: GetFunctionConfiguration) reads them here as on AWS. cargo lambda watch runs
    the code; these records hold a placeholder package, and each role as IAM lists it."""
    import function_env

    iam, aws_lambda = stack.client("iam", url), stack.client("lambda", url)
    existing_roles = {r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]}
    existing = {
        f["FunctionName"] for page in aws_lambda.get_paginator("list_functions").paginate() for f in page["Functions"]
    }
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    environments = function_env.environments()
    for logical, binary in iam_template.BINARIES.items():
        name = iam_template.PHYSICAL_NAMES[logical]
        role = principals()["functions"][name]
        if role.rsplit("/", 1)[-1] not in existing_roles:
            iam.create_role(RoleName=role.rsplit("/", 1)[-1], AssumeRolePolicyDocument=json.dumps(trust))
        # Lambda's own variables (the Region, the role's credentials) are no function setting.
        variables = {k: v for k, v in environments[binary].items() if not k.startswith("AWS_")}
        if name in existing:
            aws_lambda.update_function_configuration(FunctionName=name, Environment={"Variables": variables})
            continue
        aws_lambda.create_function(
            FunctionName=name,
            Runtime="provided.al2023",
            Architectures=["arm64"],
            Handler="bootstrap",
            Role=role,
            Code={"ZipFile": placeholder_package()},
            Environment={"Variables": variables},
        )


@functools.lru_cache(maxsize=1)
def placeholder_package() -> bytes:
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("bootstrap", "#!/bin/sh\n# served by cargo lambda watch\n")
    return package.getvalue()


def deploy_instance_roles(url: str = None) -> None:
    """The template's policies for a user's instance roles (VssInstancePolicy), and the role with an instance
    profile of the same name that a user with Windows targets attaches it to, as the README asks; the emulator
    enforces the policy for that role like every principal's."""
    iam = stack.client("iam", url)
    resolver = iam_template.Resolver(iam_template.transformed_template())
    for logical, name in iam_template.INSTANCE_ROLES.items():
        if name in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
            continue
        document = resolver.resolve(resolver.resources[logical]["Properties"]["PolicyDocument"])
        policy = iam.create_policy(PolicyName=resolver.name(logical), PolicyDocument=json.dumps(document))
        stack.instance_profile_role(name, url)
        iam.attach_role_policy(RoleName=name, PolicyArn=policy["Policy"]["Arn"])


def deploy_copy_vault(url: str = None) -> None:
    """The vault EFS copies go to (CopyBackupVaultName): made beforehand in the copy Region, as the README
    asks of a user, since a stack makes resources in its own Region only."""
    parameters = json.loads(os.environ.get("SNAPMGMT_STACK_PARAMETERS") or "{}")
    region, name = parameters.get("CopyRegion"), parameters.get("CopyBackupVaultName")
    if not (region and name):
        return
    backup = stack.client("backup", url, region=region)
    if name not in [v["BackupVaultName"] for v in backup.list_backup_vaults()["BackupVaultList"]]:
        backup.create_backup_vault(BackupVaultName=name)


def deploy_copy_svm(url: str = None) -> None:
    """The storage virtual machine in the copy Region where ONTAP volumes' copies are restore-tested
    (VerifyCopySvmId): an operator's existing one there, with the id the parameter names."""
    parameters = json.loads(os.environ.get("SNAPMGMT_STACK_PARAMETERS") or "{}")
    region, svm_id = parameters.get("CopyRegion"), parameters.get("VerifyCopySvmId")
    if not (region and svm_id):
        return
    fsx = stack.client("fsx", url, region=region)
    file_system = fsx.create_file_system(
        FileSystemType="ONTAP",
        StorageCapacity=1024,
        SubnetIds=["subnet-0123456789abcdef0"],
        OntapConfiguration={"DeploymentType": "SINGLE_AZ_1", "ThroughputCapacity": 128},
        Tags=[{"Key": "Name", "Value": "restore tests of copies"}],
    )["FileSystem"]["FileSystemId"]
    body = {"region": region, "fileSystemId": file_system, "name": "restores", "storageVirtualMachineId": svm_id}
    stack.control("/moto-api/snapmgmt/fsx/storage-virtual-machine", body, url)


def deploy_notifications(url: str = None) -> None:
    """The stack's topic, and each AWS::Lambda::EventInvokeConfig of the template, on the emulator's Lambda
    (which runs a function invoked asynchronously through cargo lambda watch, and honours these)."""
    template = iam_template.transformed_template()
    resolver = iam_template.Resolver(template)
    sns = stack.client("sns", url)
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::SNS::Topic":
            sns.create_topic(Name=resolver.name(logical))
    aws_lambda = stack.client("lambda", url)
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::EventInvokeConfig":
            continue
        config = resolver.resolve(resource["Properties"])
        aws_lambda.put_function_event_invoke_config(
            FunctionName=config["FunctionName"],
            Qualifier=config["Qualifier"],
            MaximumRetryAttempts=config["MaximumRetryAttempts"],
            DestinationConfig=config["DestinationConfig"],
        )


def notification_topic_arn() -> str:
    """The stack's NotificationTopic, as deployed locally."""
    return iam_template.Resolver(iam_template.transformed_template()).arn("NotificationTopic")


def snapshot_document() -> dict:
    """The snapshot document's content, as template.yaml has it."""
    template, errors = cfnlint.decode.decode(ROOT / "template.yaml")
    if errors:
        raise SystemExit(f"deploy: template.yaml does not parse: {errors}")
    return json.loads(json.dumps(template["Resources"][SNAPSHOT_DOCUMENT[0]]["Properties"]["Content"]))


def deploy_document(ssm) -> None:
    name = SNAPSHOT_DOCUMENT[1]
    content = snapshot_document()
    try:
        ssm.delete_document(Name=name)
    except ssm.exceptions.InvalidDocument:
        pass
    ssm.create_document(Name=name, Content=json.dumps(content), DocumentType="Automation", DocumentFormat="JSON")


if __name__ == "__main__":
    main()
