"""The snapshot document's Linux steps run for real: the pre-script, the freeze, the thaw and the post-script run
as root in the instance's sandbox (moto_ext/sandbox.py) against real ext4 and xfs file systems on loop devices,
and the set is labelled application-consistent only when the freeze held until the snapshots were requested.

Every sandbox is thawed and removed when its test ends, whatever happened (stack.linux_sandbox); the document's
own auto-thaw bounds any freeze to seconds besides."""

import json
import os
import time

import iam_template
import pytest
import stack
from moto_ext.lambda_functions import FunctionInvoker
from test_workflow import run, target

DOCUMENT = "snapmgmt-local-ebs-snapshot"
DATA = [{"mount": "/data", "fstype": "xfs"}, {"mount": "/logs", "fstype": "ext4"}]


def tag(snapshot, key):
    return next((t["Value"] for t in snapshot.get("Tags", []) if t["Key"] == key), None)


def invoke(function: str, event: dict) -> dict:
    response = FunctionInvoker(os.environ["AWS_ENDPOINT_URL_LAMBDA"]).invoke(
        FunctionName=function, Payload=json.dumps(event).encode()
    )
    return json.loads(response["Payload"].read())


def finished(execution_id: str, timeout: float = 60) -> dict:
    ssm = stack.client("ssm")
    deadline = time.time() + timeout
    while time.time() < deadline:
        execution = ssm.get_automation_execution(AutomationExecutionId=execution_id)["AutomationExecution"]
        if execution["AutomationExecutionStatus"] not in ("Pending", "InProgress"):
            return execution
        time.sleep(0.2)
    raise AssertionError(f"automation {execution_id} still running after {timeout} s")


def checked(instance: str, execution_id: str, timeout: float = 60) -> dict:
    """check-in-progress's answer once the set is no longer in progress (it labels a completed set)."""
    event = {"kind": "ec2Snapshot", "instanceId": instance, "automationExecutionId": execution_id}
    deadline = time.time() + timeout
    while (answer := invoke("check-in-progress", event))["status"] == "InProgress" and time.time() < deadline:
        time.sleep(0.5)
    return answer


def snapshot_and_label(instance: str) -> tuple:
    """snapshot-ebs starts the document, the automation runs, check-in-progress labels the completed set:
    (the automation, the check's answer, the set's snapshots)."""
    started = invoke("snapshot-ebs", {"instanceId": instance, "runId": "run-freeze"})
    execution = finished(started["automationExecutionId"])
    check = checked(instance, started["automationExecutionId"])
    ec2 = stack.client("ec2")
    ids = check.get("snapshotIds") or []
    snapshots = ec2.describe_snapshots(SnapshotIds=ids)["Snapshots"] if ids else []
    return execution, check, snapshots


def volumes_of(instance: str) -> int:
    """The instance's EBS volumes: the set the document makes must hold as many."""
    described = stack.client("ec2").describe_instances(InstanceIds=[instance])["Reservations"][0]["Instances"][0]
    return sum(1 for mapping in described["BlockDeviceMappings"] if "Ebs" in mapping)


def start_document(instance: str, execution_id: str, **parameters) -> str:
    """The shipped document started directly, as the automation role (as snapshot-ebs starts it), with these
    parameters besides the ones it always needs; the execution's id."""
    role = iam_template.Resolver(iam_template.transformed_template()).arn("AutomationRole")
    given = {"InstanceId": instance, "AutomationAssumeRole": role, "ExecutionId": execution_id}
    given.update(StackId=stack.STACK_ID, Volumes=str(volumes_of(instance)), **parameters)
    started = stack.client("ssm").start_automation_execution(
        DocumentName=DOCUMENT, Parameters={name: [value] for name, value in given.items()}
    )
    return started["AutomationExecutionId"]


def steps(execution: dict) -> dict:
    return {s["StepName"]: s["StepStatus"] for s in execution.get("StepExecutions", [])}


def frozen_last_time(instance: str) -> list:
    return stack.in_sandbox(instance, "cat /run/snapmgmt/frozen")["stdout"].split()


def test_the_data_file_systems_are_frozen_while_the_snapshots_are_requested_and_the_set_labelled_so(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2)
    with stack.linux_sandbox(instance, DATA, binds=[["/data", "/srv/data"]]):
        # A writer on each data file system, a line every 50 ms: a frozen file system holds its writes back.
        writer = "while :; do date +%s.%N >> /logs/ticks; date +%s.%N >> /srv/data/ticks; sleep 0.05; done"
        stack.in_sandbox(instance, writer, background=True)
        stack.slow_snapshots(instance, 2)
        time.sleep(0.5)

        summary = run()

        assert summary["status"] == "SUCCEEDED", summary
        # The run's report says it, per instance.
        assert target(summary, instance)["consistency"] == "app"
        created = target(summary, instance)["created"]
        new = ec2.describe_snapshots(SnapshotIds=created)["Snapshots"]
        assert {(tag(s, "snapmgmt:AppConsistent"), tag(s, "snapmgmt:Consistency")) for s in new} == {("true", "app")}
        # Each file system frozen once (the bind mount resolved by its device), never the root.
        assert sorted(frozen_last_time(instance)) == ["/data", "/logs"]
        for ticks in ("/logs/ticks", "/data/ticks"):
            times = [float(t) for t in stack.in_sandbox(instance, f"cat {ticks}")["stdout"].split()]
            longest = max(b - a for a, b in zip(times, times[1:]))
            # The writes stopped for the 2 s the snapshot request took, and went on after the thaw.
            assert longest >= 1.8, (ticks, longest)
            assert times[-1] > times[0] + longest


def test_a_snapshot_request_that_outlasts_the_auto_thaw_is_not_labelled_consistent(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2)
    ec2.create_tags(Resources=[instance], Tags=[{"Key": "snapmgmt:FreezeTimeoutSeconds", "Value": "1"}])
    with stack.linux_sandbox(instance, DATA):
        stack.slow_snapshots(instance, 3)

        execution, check, snapshots = snapshot_and_label(instance)

        assert execution["AutomationExecutionStatus"] == "Success", execution
        assert check["status"] == "Ready", check
        assert {(tag(s, "snapmgmt:AppConsistent"), tag(s, "snapmgmt:Consistency")) for s in snapshots} == {
            ("false", "auto-thawed")
        }
        assert stack.in_sandbox(instance, "sort /run/snapmgmt/auto-thawed")["stdout"].split() == ["/data", "/logs"]


def test_an_instance_with_its_data_on_the_root_only_is_crash_consistent(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=1)
    with stack.linux_sandbox(instance, []):
        execution, check, snapshots = snapshot_and_label(instance)

        assert execution["AutomationExecutionStatus"] == "Success", execution
        assert {(tag(s, "snapmgmt:AppConsistent"), tag(s, "snapmgmt:Consistency")) for s in snapshots} == {
            ("false", "crash")
        }
        assert frozen_last_time(instance) == []


def test_a_separate_var_holding_the_agents_state_is_never_frozen(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2)
    with stack.linux_sandbox(instance, [{"mount": "/var", "fstype": "ext4"}, {"mount": "/data", "fstype": "ext4"}]):
        stack.in_sandbox(instance, "mkdir -p /var/lib/amazon/ssm /var/log/amazon/ssm")

        execution, check, snapshots = snapshot_and_label(instance)

        assert execution["AutomationExecutionStatus"] == "Success", execution
        assert frozen_last_time(instance) == ["/data"]
        assert {tag(s, "snapmgmt:Consistency") for s in snapshots} == {"app"}


def test_the_thaw_and_the_post_script_run_after_a_failed_snapshot_request(aws):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2)
    with stack.linux_sandbox(instance, DATA):
        stack.slow_snapshots(instance, 0.5, error="RequestLimitExceeded: Request limit exceeded.")

        started = invoke("snapshot-ebs", {"instanceId": instance, "runId": "run-freeze"})
        execution = finished(started["automationExecutionId"])

        assert execution["AutomationExecutionStatus"] == "Failed"
        assert "CreateSnapshots" in execution["FailureMessage"]
        ran = steps(execution)
        assert (ran["FreezeLinux"], ran["CreateSnapshots"], ran["ThawLinux"], ran["PostScriptLinux"]) == (
            "Success",
            "Failed",
            "Success",
            "Success",
        )
        # Thawed: a write to each data file system goes through at once.
        wrote = stack.in_sandbox(instance, "timeout 5 touch /data/after /logs/after && echo wrote")
        assert wrote["stdout"].strip() == "wrote", wrote


@pytest.mark.parametrize(
    ("on_failure", "status", "consistency"), [("crash", "Success", "crash"), ("fail", "Failed", None)]
)
def test_a_failing_pre_script_takes_the_set_crash_consistent_or_fails_the_run(aws, on_failure, status, consistency):
    ec2 = stack.client("ec2")
    instance = stack.create_instance(ec2, volumes=2)
    with stack.linux_sandbox(instance, DATA):
        execution_id = start_document(
            instance,
            "run-pre-script",
            PreScriptLinux="echo stopping the service; exit 3",
            PostScriptLinux="echo post > /run/post-script-ran",
            OnPreScriptFailure=on_failure,
        )
        execution = finished(execution_id)

        assert execution["AutomationExecutionStatus"] == status, execution
        assert frozen_last_time(instance) == []
        assert stack.in_sandbox(instance, "cat /run/post-script-ran")["stdout"].strip() == "post"
        if consistency:
            check = checked(instance, execution_id)
            snapshots = ec2.describe_snapshots(SnapshotIds=check["snapshotIds"])["Snapshots"]
            assert {tag(s, "snapmgmt:Consistency") for s in snapshots} == {consistency}


def test_send_command_runs_a_shell_script_on_the_instance_and_reports_it_as_run_command_does(aws):
    ec2, ssm = stack.client("ec2"), stack.client("ssm")
    instance = stack.create_instance(ec2, volumes=1)
    with stack.linux_sandbox(instance, [{"mount": "/data", "fstype": "ext4"}]):

        def run_command(*commands):
            sent = ssm.send_command(
                InstanceIds=[instance], DocumentName="AWS-RunShellScript", Parameters={"commands": list(commands)}
            )["Command"]["CommandId"]
            deadline = time.time() + 30
            while time.time() < deadline:
                answer = ssm.get_command_invocation(CommandId=sent, InstanceId=instance)
                if answer["Status"] not in ("Pending", "InProgress"):
                    return answer
                time.sleep(0.1)
            raise AssertionError("the command is still running")

        listed = run_command("findmnt -rn -o TARGET -t ext4,xfs", "echo done")
        assert (listed["Status"], listed["ResponseCode"]) == ("Success", 0)
        assert listed["StandardOutputContent"].split() == ["/", "/data", "done"]
        failed = run_command("echo trying >&2", "exit 4")
        assert (failed["Status"], failed["ResponseCode"], failed["StandardErrorContent"]) == ("Failed", 4, "trying\n")
