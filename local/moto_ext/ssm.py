"""SSM Automation, enough of it for snapmgmt's EBS snapshot document, on moto's SSM and EC2 models.

moto 5.2 has no StartAutomationExecution or GetAutomationExecution. Here an execution is a record whose
status goes InProgress -> its outcome after SNAPMGMT_EMULATOR_AUTOMATION_SECONDS. When it ends, it performs
the document's snapshot step: the `aws:executeAwsApi` step calling ec2 CreateSnapshots, with the document's
{{ parameters }} filled in, against moto's EC2, so the snapshots really appear, tagged as the step says.
Other steps (aws:runCommand: pre/post scripts, freeze, thaw) need an instance agent and are not run.
A test scripts the outcomes of an instance's next executions, e.g. fail the first two.
"""

import json
import os
import re
import time
import uuid

import yaml
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ssm import responses
from moto.ssm.exceptions import SSMException

from . import iam

AUTOMATION_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_AUTOMATION_SECONDS", "1"))
FINAL = ("Success", "Failed", "TimedOut", "Cancelled", "CompletedWithFailure", "Exited", "Rejected")


def _state(backend) -> dict:
    if not hasattr(backend, "snapmgmt_automation"):
        backend.snapmgmt_automation = {"executions": {}, "tokens": {}, "next_outcomes": {}}
    return backend.snapmgmt_automation


def next_outcomes(backend) -> dict:
    """instanceId -> outcomes of its next executions: {"status": "Failed", "snapshots": bool, "message": str}."""
    return _state(backend)["next_outcomes"]


def _document_content(backend, name: str) -> dict:
    documents = backend._documents.get(name)
    if documents is None:
        raise SSMException("AutomationDefinitionNotFoundException", f"Automation document {name} not found")
    document = documents.get_default_version()
    return json.loads(document.content) if document.document_format == "JSON" else yaml.safe_load(document.content)


def _fill(value, parameters: dict):
    """The value with every {{ Name }} replaced by the parameter's (first) value."""
    if isinstance(value, str):
        return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(parameters.get(m.group(1), [""])[0]), value)
    if isinstance(value, list):
        return [_fill(v, parameters) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, parameters) for k, v in value.items()}
    return value


def _take_snapshots(backend, execution: dict) -> dict:
    """Runs the document's first CreateSnapshots step; its outputs, as SSM names them: {"<step>.SnapshotIds": [...]}."""
    steps = _document_content(backend, execution["DocumentName"]).get("mainSteps", [])
    step = next(
        (s for s in steps if s.get("action") == "aws:executeAwsApi" and s["inputs"].get("Api") == "CreateSnapshots"),
        None,
    )
    if step is None:
        return {}
    inputs = _fill(step["inputs"], execution["Parameters"])
    tags = {t["Key"]: t["Value"] for spec in inputs.get("TagSpecifications", []) for t in spec.get("Tags", [])}
    # The step runs as the role the automation was given.
    role = (execution["Parameters"].get("AutomationAssumeRole") or [None])[0]
    if iam.governs(role):
        instance = inputs["InstanceSpecification"]["InstanceId"]
        for action, resource, context in iam.create_snapshots_authorizations(instance, tags):
            iam.authorize(role, action, resource, context)
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    snapshots = ec2.create_snapshots(inputs["InstanceSpecification"], inputs.get("Description", ""), tags)
    return {f"{step['name']}.SnapshotIds": [s.id for s in snapshots]}


def _advance(backend, execution: dict) -> None:
    """Ends the execution when its time is up: takes the snapshots, then sets the scripted outcome."""
    if execution["AutomationExecutionStatus"] in FINAL or time.time() < execution["ready_at"]:
        return
    outcome = execution["outcome"]
    if outcome.get("snapshots", outcome["status"] == "Success"):
        try:
            execution["Outputs"] = _take_snapshots(backend, execution)
        except Exception as error:  # the step failed as the real one would: the execution fails
            outcome = {"status": "Failed", "message": f"Step CreateSnapshots failed: {error}"}
    execution["AutomationExecutionStatus"] = outcome["status"]
    execution["ExecutionEndTime"] = utcnow()
    if outcome["status"] != "Success":
        execution["FailureMessage"] = outcome.get("message", "Step failed (emulator).")


def start_automation_execution(self):
    name = self._get_param("DocumentName")
    parameters = self._get_param("Parameters", {}) or {}
    token = self._get_param("ClientToken")
    state = _state(self.ssm_backend)
    _document_content(self.ssm_backend, name)
    if token:
        known = state["tokens"].get(token.lower())
        if known:
            if known["DocumentName"] != name or known["Parameters"] != parameters:
                raise SSMException("IdempotentParameterMismatch", "The ClientToken was used with other parameters.")
            return ActionResult({"AutomationExecutionId": known["AutomationExecutionId"]})
    instance = (parameters.get("InstanceId") or [""])[0]
    scripted = next_outcomes(self.ssm_backend).get(instance) or []
    outcome = scripted.pop(0) if scripted else {"status": "Success"}
    execution = {
        "AutomationExecutionId": str(uuid.uuid4()),
        "DocumentName": name,
        "DocumentVersion": "1",
        "Parameters": parameters,
        "AutomationExecutionStatus": "InProgress",
        "ExecutionStartTime": utcnow(),
        "Mode": "Auto",
        "Outputs": {},
        "ready_at": time.time() + AUTOMATION_SECONDS,
        "outcome": outcome,
    }
    state["executions"][execution["AutomationExecutionId"]] = execution
    if token:
        state["tokens"][token.lower()] = execution
    return ActionResult({"AutomationExecutionId": execution["AutomationExecutionId"]})


def get_automation_execution(self):
    execution_id = self._get_param("AutomationExecutionId")
    execution = _state(self.ssm_backend)["executions"].get(execution_id)
    if execution is None:
        raise SSMException("AutomationExecutionNotFoundException", f"Automation execution {execution_id} not found")
    _advance(self.ssm_backend, execution)
    public = {k: v for k, v in execution.items() if k not in ("ready_at", "outcome")}
    return ActionResult({"AutomationExecution": public})


def install() -> None:
    responses.SimpleSystemManagerResponse.start_automation_execution = start_automation_execution
    responses.SimpleSystemManagerResponse.get_automation_execution = get_automation_execution
