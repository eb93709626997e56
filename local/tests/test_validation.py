"""The emulator refuses what the service would refuse (moto_ext/validation.py): one test per kind of rule,
through boto3 with its own client-side checks off, so that the request reaches the emulator as a careless
client would send it; and the whole suite runs with the check on (the last test reads every refusal)."""

import botocore.config
import botocore.exceptions
import pytest
import stack

UNCHECKED = botocore.config.Config(parameter_validation=False, retries={"max_attempts": 1})


@pytest.fixture(scope="module")
def endpoint(emulator_alone):
    return emulator_alone


@pytest.fixture
def client(endpoint):
    stack.control("/moto-api/reset", {}, endpoint)
    return lambda service: stack.client(service, endpoint, config=UNCHECKED)


def refused(call, **params) -> dict:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**params)
    return caught.value.response


def file_system(client) -> str:
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    fs = client("fsx").create_file_system(FileSystemType="LUSTRE", StorageCapacity=1200, SubnetIds=[subnet])
    return fs["FileSystem"]["ResourceARN"]


def test_a_pattern_refuses_a_comma_in_an_fsx_tag_value_and_names_the_member(client):
    arn = file_system(client)
    fsx = client("fsx")
    response = refused(fsx.tag_resource, ResourceARN=arn, Tags=[{"Key": "k", "Value": "daily=7,weekly=4"}])
    assert response["Error"]["Code"] == "ValidationException"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert "at 'tags.1.member.value'" in response["Error"]["Message"]
    assert "regular expression pattern" in response["Error"]["Message"]
    # The space-separated form is a valid value, and nothing was tagged by the refused call.
    fsx.tag_resource(ResourceARN=arn, Tags=[{"Key": "k", "Value": "daily=7 weekly=4"}])
    assert fsx.list_tags_for_resource(ResourceARN=arn)["Tags"] == [{"Key": "k", "Value": "daily=7 weekly=4"}]


def test_efs_answers_bad_request_and_aws_backup_its_own_codes(client):
    efs = client("efs")
    fs = efs.create_file_system(CreationToken="validation")["FileSystemId"]
    response = refused(efs.tag_resource, ResourceId=fs, Tags=[{"Key": "k", "Value": "a,b"}])
    assert response["Error"]["Code"] == "BadRequest"
    # The Backup model has no pattern for tag values: the API reference's is added (SUPPLEMENTS).
    backup = client("backup")
    response = refused(backup.create_backup_vault, BackupVaultName="vault", BackupVaultTags={"k": "a,b"})
    assert response["Error"]["Code"] == "InvalidParameterValueException"
    assert "at 'backupVaultTags.k'" in response["Error"]["Message"]
    response = refused(backup.start_backup_job, BackupVaultName="vault", ResourceArn="arn:aws:efs:::x")
    assert response["Error"]["Code"] == "MissingParameterValueException"
    assert "Value null at 'iamRoleArn'" in response["Error"]["Message"]


def test_a_required_member_left_out_is_named(client):
    response = refused(client("ec2").create_tags, Resources=["vol-0123456789abcdef0"])
    assert response["Error"]["Code"] == "MissingParameter"
    assert "Value null at 'tags'" in response["Error"]["Message"]


def test_a_number_out_of_range_is_refused(client):
    response = refused(client("ssm").describe_automation_executions, MaxResults=51)
    assert response["Error"]["Code"] == "ValidationException"
    assert "less than or equal to 50" in response["Error"]["Message"]
    response = refused(client("fsx").describe_backups, MaxResults=0)
    assert "greater than or equal to 1" in response["Error"]["Message"]


def test_a_string_too_long_or_too_short_is_refused(client):
    response = refused(client("stepfunctions").list_executions, stateMachineArn="")
    assert "length greater than or equal to 1" in response["Error"]["Message"]
    response = refused(
        client("fsx").tag_resource, ResourceARN=file_system(client), Tags=[{"Key": "k" * 129, "Value": ""}]
    )
    assert "length less than or equal to 128" in response["Error"]["Message"]


def test_a_value_outside_the_enum_is_refused(client):
    response = refused(
        client("stepfunctions").list_executions,
        stateMachineArn="arn:aws:states:us-east-1:123456789012:stateMachine:x",
        statusFilter="DONE",
    )
    assert "enum value set" in response["Error"]["Message"]


def test_a_list_too_long_is_refused(client):
    tags = [{"Key": f"k{n}", "Value": "v"} for n in range(51)]
    response = refused(client("fsx").tag_resource, ResourceARN=file_system(client), Tags=tags)
    assert (
        "at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"
        in (response["Error"]["Message"])
    )


def test_every_violation_of_a_request_is_named_at_once(client):
    backup = client("backup")
    response = refused(backup.create_backup_vault, BackupVaultName="v", BackupVaultTags={"k": "a,b"})
    assert response["Error"]["Message"].startswith("2 validation errors detected: ")
    refusals = stack.control_get("/moto-api/snapmgmt/validation", backup.meta.endpoint_url)["refusals"]
    assert refusals[-1]["operation"] == "CreateBackupVault"


def test_the_seeding_routes_hold_tags_to_the_services_rules(client, endpoint):
    """A backup seeded through a control route carries only tags the service would have accepted."""
    import urllib.error

    fs_id = file_system(client).rsplit("/", 1)[-1]
    body = {"fileSystemId": fs_id, "backups": [{"tags": {"Name": "demo, 30 days old"}, "creationTime": 0}]}
    with pytest.raises(urllib.error.HTTPError) as caught:
        stack.control("/moto-api/snapmgmt/fsx/bulk-backups", body, endpoint)
    assert caught.value.code == 400
    assert client("fsx").describe_backups()["Backups"] == []


def test_the_suites_stack_validates_every_request(aws):
    """The stack every end-to-end test and the demo run on (start.sh's emulator) has the check on: there is no
    switch to turn it off."""
    fsx = stack.client("fsx", config=UNCHECKED)
    response = refused(fsx.describe_backups, MaxResults=0)
    assert response["Error"]["Code"] == "ValidationException"
