"""Windows instances through AWS's own VSS document: the snapshot document's Windows branch runs
AWSEC2-CreateVssSnapshot on the instance (modelled by moto_ext/vss.py as AWS documents it), which takes the set as
the instance profile's role, IAM enforced; check-in-progress finds the set by our tags and labels it
application-consistent only when AWS tagged every snapshot AppConsistent=true. PowerShell is not run here."""

import json

import conftest
import deploy
import pytest
import stack
from moto_ext import automation, vss
from test_linux_freeze import checked, finished, invoke, start_document, steps, tag
from test_workflow import run, target

ROLE = f"arn:aws:iam::123456789012:role/{stack.WINDOWS_PROFILE}"


def snapshot_and_label(instance: str, run_id: str = "run-vss") -> tuple:
    """snapshot-ebs starts the document, the automation runs, check-in-progress answers: (the automation, the
    check's answer, the snapshots of this run)."""
    started = invoke("snapshot-ebs", {"instanceId": instance, "runId": run_id})
    assert "errorType" not in started, started
    execution = finished(started["automationExecutionId"])
    check = checked(instance, started["automationExecutionId"])
    return execution, check, of_run(instance, run_id)


def of_run(instance: str, run_id: str) -> list:
    filters = [
        {"Name": "tag:snapmgmt:TargetId", "Values": [instance]},
        {"Name": "tag:snapmgmt:RunId", "Values": [run_id]},
    ]
    return stack.client("ec2").describe_snapshots(Filters=filters)["Snapshots"]


def decisions_of(role: str) -> list:
    return [d for d in stack.control_get("/moto-api/snapmgmt/iam/decisions")["decisions"] if d["role"] == role]


def test_aws_vss_document_takes_the_set_as_the_instance_role_and_the_set_is_labelled_application_consistent(aws):
    ec2 = stack.client("ec2")
    instance = stack.windows_instance(ec2, volumes=2)
    execution, check, snapshots = snapshot_and_label(instance)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    ran = steps(execution)
    assert ran["WindowsPreScript"] == ran["CreateVssSnapshot"] == ran["PostScriptWindows"] == "Success", ran
    assert not {"LinuxPreScript", "FreezeLinux", "CreateSnapshots", "ThawLinux"} & set(ran)
    assert check["status"] == "Ready" and check["consistency"] == "app", check
    volumes = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]
    device_of = {m["Ebs"]["VolumeId"]: m["DeviceName"] for m in volumes}
    assert sorted(check["snapshotIds"]) == sorted(s["SnapshotId"] for s in snapshots) and len(snapshots) == len(volumes)
    for snapshot in snapshots:
        # Ours at creation, AWS's after, then our label.
        assert tag(snapshot, "ManagedBy") == "snapmgmt" and tag(snapshot, "snapmgmt:Attempt") == "0"
        assert tag(snapshot, "snapmgmt:Stack") == stack.STACK_ID
        assert tag(snapshot, "Device") == device_of[snapshot["VolumeId"]]
        assert tag(snapshot, "AppConsistent") == "true" and tag(snapshot, "AwsVssConfig").startswith("AwsVssComponents")
        assert tag(snapshot, "snapmgmt:AppConsistent") == "true" and tag(snapshot, "snapmgmt:Consistency") == "app"
        assert snapshot["Description"] == f"snapmgmt {instance} run-vss"
    # Made by the instance's role, each call authorized by the stack's VssInstancePolicy.
    made = {(d["action"], d["allowed"]) for d in decisions_of(ROLE)}
    assert {("ec2:DescribeInstanceAttribute", True), ("ec2:CreateSnapshots", True), ("ec2:CreateTags", True)} <= made
    assert all(allowed for _, allowed in made), made


def test_the_boot_volume_is_left_out_as_the_document_is_asked(aws):
    ec2 = stack.client("ec2")
    instance = stack.windows_instance(ec2, volumes=2)
    boot = ec2.describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]["RootDeviceName"]
    execution_id = start_document(instance, "run-no-boot", VssExcludeBootVolume="True")
    assert finished(execution_id)["AutomationExecutionStatus"] == "Success"
    check = checked(instance, execution_id)
    snapshots = of_run(instance, "run-no-boot")
    assert check["status"] == "Ready" and len(snapshots) == 2, check
    assert boot not in {tag(s, "Device") for s in snapshots}


def test_a_vss_failure_leaves_the_snapshots_labelled_not_consistent(aws):
    ec2 = stack.client("ec2")
    instance = stack.windows_instance(ec2)
    stack.vss(instance, components="2.4.0", failure="the SQL Server writer timed out")
    execution, check, snapshots = snapshot_and_label(instance)
    assert execution["AutomationExecutionStatus"] == "Failed" and "SQL Server writer" in execution["FailureMessage"]
    assert steps(execution)["PostScriptWindows"] == "Success"
    assert check["status"] == "Failed" and "SQL Server writer" in check["detail"], check
    # AWS leaves them without AppConsistent, and ours was never raised.
    assert snapshots and all(tag(s, "AppConsistent") is None for s in snapshots)
    assert all(tag(s, "snapmgmt:AppConsistent") == "false" for s in snapshots)


def test_missing_vss_components_fail_the_instance_naming_them_before_any_snapshot(aws):
    ec2 = stack.client("ec2")
    instance = stack.windows_instance(ec2, components=False)
    execution, check, snapshots = snapshot_and_label(instance)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert "AwsVssComponents is not installed" in check["detail"], check
    assert check["status"] == "Failed" and snapshots == []
    assert steps(execution)["PostScriptWindows"] == "Success"


def test_an_instance_role_without_the_policy_is_refused_by_iam_and_makes_nothing(aws):
    bare = "windows-without-vss-policy"
    role_arn = stack.instance_profile_role(bare)
    principals = deploy.principals()
    roles = {**principals["roles"], role_arn: {"logicalId": bare, "statements": [], "managedPolicies": []}}
    stack.control("/moto-api/snapmgmt/iam/principals", {**principals, "roles": roles})
    instance = stack.windows_instance(stack.client("ec2"), profile=bare)
    arn = f"arn:aws:ec2:us-east-1:123456789012:instance/{instance}"
    conftest.PROVOKED_DENIALS.add(("ec2:DescribeInstanceAttribute", arn))
    execution, check, snapshots = snapshot_and_label(instance)
    assert check["status"] == "Failed" and "UnauthorizedOperation" in check["detail"], check
    assert "ec2:DescribeInstanceAttribute" in check["detail"] and snapshots == []
    assert [d["allowed"] for d in decisions_of(role_arn)] == [False]


def test_a_windows_instance_without_an_instance_profile_fails_naming_it_and_starts_nothing(aws):
    instance = stack.windows_instance(stack.client("ec2"), profile=None)
    answer = invoke("snapshot-ebs", {"instanceId": instance, "runId": "run-vss"})
    assert answer.get("errorType") == "PrerequisiteMissing", answer
    assert "no instance profile" in answer["errorMessage"] and "VssInstancePolicyArn" in answer["errorMessage"]
    assert of_run(instance, "run-vss") == []


def test_the_workflow_reports_a_windows_target_application_consistent(aws):
    ec2 = stack.client("ec2")
    windows = stack.windows_instance(ec2)
    without_profile = stack.windows_instance(ec2, profile=None)
    summary = run()
    assert target(summary, windows)["consistency"] == "app", target(summary, windows)
    assert len(target(summary, windows)["created"]) == 1
    failed = target(summary, without_profile)
    assert "PrerequisiteMissing" in json.dumps(failed) and not failed.get("created"), failed


def test_the_vss_model_takes_its_parameters_as_aws_declares_them():
    assert vss.check_parameters({"tags": "Key=A,Value=1;Key=B,Value=x y"}) == {"A": "1", "B": "x y"}
    refused = [
        ({"tags": "Key=AppConsistent,Value=true"}, "reserved by AWS VSS"),
        ({"tags": "A=1"}, "not in the form"),
        ({"NoWriters": "yes"}, "must be True or False"),
        ({"Verbose": "True"}, "not a parameter"),
        ({"executionTimeout": "ten"}, "number of seconds"),
    ]
    for parameters, says in refused:
        with pytest.raises(vss.CommandFailed, match=says):
            vss.check_parameters(parameters)


def test_the_shipped_document_asks_aws_vss_for_our_tags_and_none_of_its_reserved_ones():
    document = deploy.snapshot_document()
    [step] = [s for s in document["mainSteps"] if s["name"] == "CreateVssSnapshot"]
    given = {"InstanceId": ["i-0123456789abcdef0"], "AutomationAssumeRole": ["role"], "ExecutionId": ["run-1"]}
    parameters = automation.parameters_with_defaults(
        document, {**given, "Attempt": ["2"], "StackId": ["s@r"], "Volumes": ["3"]}
    )
    filled = automation.fill(step["inputs"]["Parameters"], parameters, {})
    assert filled["ExcludeBootVolume"] == "False"
    tags = vss.check_parameters(filled)
    assert tags == {
        "ManagedBy": "snapmgmt",
        "snapmgmt:TargetId": "i-0123456789abcdef0",
        "snapmgmt:RunId": "run-1",
        "snapmgmt:Attempt": "2",
        "snapmgmt:Stack": "s@r",
        "snapmgmt:Volumes": "3",
        "snapmgmt:AppConsistent": "false",
    }
    assert filled["description"] == "snapmgmt i-0123456789abcdef0 run-1"
