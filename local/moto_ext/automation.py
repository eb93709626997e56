"""An SSM Automation runbook run step by step, as AWS runs one, on moto's EC2 and the instances' sandboxes.

The steps snapmgmt's snapshot document uses: `aws:executeAwsApi` (ec2 DescribeInstances and CreateSnapshots, as
the automation's role, IAM enforced), `aws:branch` (StartsWith, StringEquals, Contains), and `aws:runCommand`
(ssm:SendCommand as the automation's role): AWS-RunShellScript runs for real in the instance's sandbox
(sandbox.py) when it has one, its Output (the first 2,500 characters of stdout), Status and ResponseCode the
step's outputs, a non-zero exit or the step's TimeoutSeconds failing it; AWSEC2-CreateVssSnapshot runs as
vss.py models it; an instance without a sandbox, and every PowerShell command, is not run (the step succeeds
with an empty Output: the emulator has no agent there). `onFailure` (Abort, Continue, step:NAME), `nextStep`,
`isEnd` and `isCritical` route as AWS's engine does: a failed critical step fails the execution even when its
onFailure step then runs.
"""

import re
import threading
import time

from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends

from . import iam, sandbox, vss

MAX_OUTPUT = 2500
# A test's knobs: seconds the CreateSnapshots step takes for an instance (a slow request, past the auto-thaw),
# and the error it fails with.
snapshot_delays: dict = {}
snapshot_errors: dict = {}


class StepFailed(Exception):
    pass


def fill(value, parameters: dict, outputs: dict):
    """The value with every {{ Name }} replaced by the parameter's (first) value, {{ Step.Output }} by the
    step's output."""
    if isinstance(value, str):

        def lookup(match):
            name = match.group(1)
            if name in outputs:
                found = outputs[name]
                return found if isinstance(found, str) else str(found)
            return str(parameters.get(name, [""])[0])

        return re.sub(r"\{\{\s*([\w.]+)\s*\}\}", lookup, value)
    if isinstance(value, list):
        return [fill(v, parameters, outputs) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, parameters, outputs) for k, v in value.items()}
    return value


def _ec2(backend):
    return ec2_backends[backend.account_id][backend.region_name]


def _role(execution) -> str | None:
    return (execution["Parameters"].get("AutomationAssumeRole") or [None])[0]


def _execute_aws_api(backend, execution, inputs: dict) -> dict:
    api = (inputs.get("Service"), inputs.get("Api"))
    role = _role(execution)
    if api == ("ec2", "DescribeInstances"):
        [instance_id] = inputs["InstanceIds"]
        if iam.governs(role):
            iam.authorize(role, "ec2:DescribeInstances", "*")
        instance = _ec2(backend).get_instance(instance_id)
        platform = "Windows" if vss.is_windows(instance) else "Linux/UNIX"
        return {"Platform": platform}
    if api == ("ec2", "CreateSnapshots"):
        tags = {t["Key"]: t["Value"] for spec in inputs.get("TagSpecifications", []) for t in spec.get("Tags", [])}
        instance_id = inputs["InstanceSpecification"]["InstanceId"]
        if iam.governs(role):
            for action, resource, context in iam.create_snapshots_authorizations(instance_id, tags):
                iam.authorize(role, action, resource, context)
        time.sleep(snapshot_delays.get(instance_id, 0))
        if instance_id in snapshot_errors:
            raise StepFailed(snapshot_errors[instance_id])
        snapshots = _ec2(backend).create_snapshots(inputs["InstanceSpecification"], inputs.get("Description", ""), tags)
        return {"SnapshotIds": [s.id for s in snapshots]}
    raise StepFailed(f"the emulator does not model {api[0]} {api[1]}")


def _branch(inputs: dict) -> str:
    for choice in inputs.get("Choices", []):
        variable = choice.get("Variable", "")
        if (
            ("StartsWith" in choice and variable.startswith(choice["StartsWith"]))
            or ("StringEquals" in choice and variable == choice["StringEquals"])
            or ("Contains" in choice and choice["Contains"] in variable)
        ):
            return choice["NextStep"]
    if "Default" not in inputs:
        raise StepFailed("no choice matched and the branch has no Default")
    return inputs["Default"]


def _run_command(backend, execution, inputs: dict) -> dict:
    document = inputs["DocumentName"]
    [instance_id] = inputs["InstanceIds"]
    role = _role(execution)
    if iam.governs(role):
        tags = dict(_ec2(backend).tags.get(instance_id, {}))
        context = {f"ssm:resourceTag/{k}": v for k, v in tags.items()}
        iam.authorize(role, "ssm:SendCommand", iam.ec2_arn("instance", instance_id), context)
        iam.authorize(role, "ssm:SendCommand", f"arn:aws:ssm:{backend.region_name}::document/{document}")
    if document == vss.DOCUMENT:
        try:
            output = vss.run(_ec2(backend), instance_id, inputs.get("Parameters", {}))
        except vss.CommandFailed as error:
            raise StepFailed(str(error)) from None
        return {"Output": output[:MAX_OUTPUT], "Status": "Success", "ResponseCode": 0}
    instance_sandbox = sandbox.of(instance_id)
    if document != "AWS-RunShellScript" or instance_sandbox is None:
        return {"Output": "", "Status": "Success", "ResponseCode": 0}
    commands, timeout = sandbox.shell_script(inputs.get("Parameters", {}))
    timeout = float(inputs.get("TimeoutSeconds", timeout))
    code, out, err = instance_sandbox.run(commands, timeout)
    if code is None:
        raise StepFailed(f"the command timed out after {timeout:g} s")
    if code != 0:
        raise StepFailed(f"the command failed with exit code {code}: {err.strip()[-500:]}")
    return {"Output": out[:MAX_OUTPUT], "Status": "Success", "ResponseCode": code}


def _perform(backend, execution, parameters: dict, step: dict, outputs: dict) -> tuple:
    """(the step's outputs, the step it names next or None)."""
    inputs = fill(step.get("inputs", {}), parameters, outputs)
    action = step.get("action")
    if action == "aws:executeAwsApi":
        result = _execute_aws_api(backend, execution, inputs)
        # Only the outputs the step declares are kept; our snapshot step declares SnapshotIds, GetPlatform Platform.
        declared = {o["Name"] for o in step.get("outputs", [])}
        return {k: v for k, v in result.items() if k in declared}, None
    if action == "aws:branch":
        return {}, _branch(inputs)
    if action == "aws:runCommand":
        return _run_command(backend, execution, inputs), None
    raise StepFailed(f"the emulator does not model the action {action}")


def parameters_with_defaults(document: dict, given: dict) -> dict:
    """The execution's parameters as AWS checks them at the start: each one the document declares, its
    allowedValues and allowedPattern met, the declared defaults filled in. Raises ValueError naming the first
    that is not."""
    declared = document.get("parameters", {})
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"Parameter {unknown[0]} is not defined in the document")
    values = {}
    for name, spec in declared.items():
        if name in given:
            value = given[name]
        elif "default" in spec:
            default = spec["default"]
            value = [str(default).lower() if isinstance(default, bool) else str(default)]
        else:
            raise ValueError(f"Parameter {name} is required")
        for item in value:
            if "allowedValues" in spec and item not in [str(v) for v in spec["allowedValues"]]:
                raise ValueError(f"Parameter {name} value {item} is not one of {spec['allowedValues']}")
            if "allowedPattern" in spec and not re.search(spec["allowedPattern"], item):
                raise ValueError(f"Parameter {name} value {item} does not match {spec['allowedPattern']}")
        values[name] = value
    return values


def run(backend, execution: dict, document: dict) -> None:
    """Runs the document's steps; sets the execution's Outputs, and its status and failure message."""
    parameters = parameters_with_defaults(document, execution["Parameters"])
    steps = document.get("mainSteps", [])
    by_name = {s["name"]: s for s in steps}
    outputs: dict = {}
    failure = None
    index = 0
    step = steps[0] if steps else None
    execution["StepExecutions"] = []
    while step is not None:
        name = step["name"]
        following = steps[index + 1]["name"] if index + 1 < len(steps) else None
        default_next = None if step.get("isEnd") else step.get("nextStep", following)
        record = {"StepName": name, "Action": step.get("action"), "ExecutionStartTime": utcnow()}
        execution["StepExecutions"].append(record)
        try:
            result, chosen = _perform(backend, execution, parameters, step, outputs)
            outputs.update({f"{name}.{k}": v for k, v in result.items()})
            next_name = chosen or default_next
            record.update(StepStatus="Success", Outputs={k: [str(v)] for k, v in result.items() if k != "SnapshotIds"})
        except Exception as error:  # the step failed as AWS's would
            record.update(StepStatus="Failed", FailureMessage=str(error))
            if step.get("isCritical", True) and failure is None:
                failure = f"Step {name} failed: {error}"
            on_failure = step.get("onFailure", "Abort")
            if on_failure.startswith("step:"):
                next_name = on_failure[len("step:") :]
            elif on_failure == "Continue":
                next_name = default_next
            else:
                next_name = None
        record["ExecutionEndTime"] = utcnow()
        step = by_name.get(next_name) if next_name else None
        index = steps.index(step) if step is not None else index
    execution["Outputs"] = {
        name: value if isinstance(value, list) else [str(value)]
        for name, value in outputs.items()
        if name in document.get("outputs", [])
    }
    execution["status"] = "Failed" if failure else "Success"
    if failure:
        execution["FailureMessage"] = failure


def start(backend, execution: dict, document: dict) -> None:
    """Runs the document in the background, as AWS does; `done` is set when it ended."""

    def body():
        try:
            run(backend, execution, document)
        except Exception as error:  # never leave the execution running forever
            execution["status"] = "Failed"
            execution["FailureMessage"] = f"Automation failed (emulator): {error}"
        finally:
            execution["done"].set()

    execution["done"] = threading.Event()
    threading.Thread(target=body, daemon=True, name=f"automation-{execution['AutomationExecutionId']}").start()
