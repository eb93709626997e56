"""Every sample event in events/ is one the functions and the state machine accept, as a manual test invoke
from the Lambda console or `cargo lambda invoke --data-file` would send it."""

import json
import os
import pathlib

import deploy
import pytest
import stack
import workflow
from moto_ext.lambda_functions import FunctionInvoker

EVENTS = pathlib.Path(__file__).resolve().parents[2] / "events"
FUNCTIONS = ["trigger", "check-in-progress", "backup-fsx", "snapshot-ebs", "cleanup", "efs-backup", "report", "verify"]
STATE_MACHINES = EVENTS / "state-machines"


def function_of(event_file: pathlib.Path) -> str:
    """events/NAME.json or events/NAME-variant.json is an event of function NAME."""
    names = [f for f in FUNCTIONS if event_file.stem == f or event_file.stem.startswith(f + "-")]
    assert names, f"{event_file.name} names no function"
    return max(names, key=len)


FUNCTION_EVENTS = sorted(EVENTS.glob("*.json"))


def test_every_function_has_a_sample_event():
    assert {function_of(p) for p in FUNCTION_EVENTS} == set(FUNCTIONS)


@pytest.mark.parametrize("event_file", FUNCTION_EVENTS, ids=lambda p: p.name)
def test_the_function_accepts_its_sample_event(aws, event_file):
    # cargo lambda answers a function error with HTTP 500; the invoker reads it as Lambda's 200 + FunctionError.
    client = FunctionInvoker(os.environ["AWS_ENDPOINT_URL_LAMBDA"])
    response = client.invoke(FunctionName=function_of(event_file), Payload=event_file.read_bytes())
    answer = json.loads(response["Payload"].read())
    if response.get("FunctionError"):
        # The sample ids exist in no account: NotFound is the answer, never a bad event or setting.
        assert answer["errorType"] == "NotFound", answer
    elif "executionArn" in answer:
        # The trigger started a run: it ends here, not in the next test's emulator (reset, its bucket empty).
        workflow.wait_for(stack.client("stepfunctions"), answer["executionArn"], timeout=120)


def state_machine_arn(name: str) -> str:
    sfn = stack.client("stepfunctions")
    [arn] = [m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"] if m["name"] == name]
    return arn


def test_every_state_machine_has_a_sample_input():
    assert sorted(p.name for p in STATE_MACHINES.glob("*.json")) == sorted(
        f.replace(".asl.json", ".json") for f in deploy.STATE_MACHINES.values()
    )


def write_inventory(sample: dict, targets: dict) -> None:
    """Writes the inventory the sample input names, as the trigger does: one JSON array per kind."""
    s3 = stack.client("s3")
    for kind in ("fsx", "ec2", "efs", "orphans"):
        items = [{"kind": kind, "id": target_id} for target_id in targets.get(kind, [])]
        s3.put_object(Bucket=sample["inventory"]["bucket"], Key=sample["inventory"][kind], Body=json.dumps(items))


def test_the_scheduled_workflow_accepts_its_sample_input(aws):
    sfn = stack.client("stepfunctions")
    arn = state_machine_arn("snapmgmt-snapshot-mgmt")
    sample = json.loads((STATE_MACHINES / "snapshot-mgmt.json").read_text())
    assert sample["inventory"]["bucket"] == deploy.INVENTORY_BUCKET
    write_inventory(sample, {"fsx": ["fs-0123456789abcdef0"]})
    sample["timing"].update({"fsxWaitSeconds": 1, "fsxPollSeconds": 1})
    started = sfn.start_execution(stateMachineArn=arn, input=json.dumps(sample))

    execution = workflow.wait_for(sfn, started["executionArn"], timeout=120)
    summary = workflow.summarize(sfn, {}, execution)

    # The sample file system does not exist: its branch fails as NotFound, and the run says which.
    assert summary["status"] == "FAILED"
    assert summary["failedTargets"] == ["fs-0123456789abcdef0"]
    assert summary["targets"][0]["error"] == "NotFound"


def test_the_sop_accepts_its_sample_input(aws):
    sfn = stack.client("stepfunctions")
    sample = json.loads((STATE_MACHINES / "efs-backup.json").read_text())
    sample["PollSeconds"] = 1
    started = sfn.start_execution(stateMachineArn=state_machine_arn("snapmgmt-efs-backup"), input=json.dumps(sample))

    execution = workflow.wait_for(sfn, started["executionArn"], timeout=120)

    # The sample file system does not exist: the start fails as NotFound, naming it.
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "NotFound", execution
    assert "fs-0123456789abcdef0" in execution.get("cause", "")
