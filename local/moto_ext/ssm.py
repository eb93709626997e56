"""SSM Automation, enough of it for snapmgmt's EBS snapshot document, on moto's SSM and EC2 models.

moto 5.2 has no StartAutomationExecution or GetAutomationExecution. Here an execution is a record whose
status goes InProgress -> its outcome once its steps have run (automation.py: the API steps against moto's EC2,
the shell steps in the instance's sandbox when it has one) and SNAPMGMT_EMULATOR_AUTOMATION_SECONDS have passed.
A test scripts the outcomes of an instance's next executions, e.g. fail the first two (with "snapshots": the
steps run first, so the snapshots appear; without, they do not run).
"""

import json
import os
import threading
import time
import uuid

import yaml
from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.ssm import responses
from moto.ssm.exceptions import SSMException

from . import automation, sandbox, vss

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


def _advance(backend, execution: dict) -> None:
    """Ends the execution when its time is up and its steps have run: the steps' status, or the scripted one."""
    if execution["AutomationExecutionStatus"] in FINAL or time.time() < execution["ready_at"]:
        return
    if "done" in execution and not execution["done"].is_set():
        return
    outcome = execution["outcome"]
    status = outcome["status"]
    if status == "Success" and execution.get("status") == "Failed":
        status = "Failed"  # a step failed: the automation did
    execution["AutomationExecutionStatus"] = status
    execution["ExecutionEndTime"] = utcnow()
    if status != "Success":
        message = outcome.get("message") or execution.get("FailureMessage")
        execution["FailureMessage"] = message or "Step failed (emulator)."


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
    try:
        automation.parameters_with_defaults(_document_content(self.ssm_backend, name), parameters)
    except ValueError as error:
        raise SSMException("InvalidAutomationExecutionParametersException", str(error)) from None
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
    # The steps run unless the test scripted an end without snapshots (the run failed before them).
    if outcome.get("snapshots", outcome["status"] == "Success"):
        automation.start(self.ssm_backend, execution, _document_content(self.ssm_backend, name))
    if token:
        state["tokens"][token.lower()] = execution
    return ActionResult({"AutomationExecutionId": execution["AutomationExecutionId"]})


def get_automation_execution(self):
    execution_id = self._get_param("AutomationExecutionId")
    execution = _state(self.ssm_backend)["executions"].get(execution_id)
    if execution is None:
        raise SSMException("AutomationExecutionNotFoundException", f"Automation execution {execution_id} not found")
    _advance(self.ssm_backend, execution)
    public = {k: v for k, v in execution.items() if k not in ("ready_at", "outcome", "done", "status")}
    return ActionResult({"AutomationExecution": public})


_moto_send_command = responses.SimpleSystemManagerResponse.send_command
# Run Command's limits on what GetCommandInvocation returns of a command's output.
MAX_STDOUT, MAX_STDERR = 24000, 8000


def _run_on(instance_sandbox, invocation: dict, commands: str, timeout: float) -> None:
    """Runs a command on an instance's sandbox and writes what GetCommandInvocation reports of it."""
    code, out, err = instance_sandbox.run(commands, timeout)
    status = "TimedOut" if code is None else ("Success" if code == 0 else "Failed")
    invocation.update(
        Status=status,
        StatusDetails=status if code is not None else "DeliveryTimedOut",
        ResponseCode=-1 if code is None else code,
        StandardOutputContent=out[:MAX_STDOUT],
        StandardErrorContent=err[:MAX_STDERR],
        ExecutionEndDateTime=utcnow().isoformat(),
    )


def send_command(self):
    """moto's SendCommand, and AWS-RunShellScript run for real on each instance that has a sandbox: its
    invocation is InProgress until the command ends, then says how it ended, with its output. AWS-ConfigureAWSPackage
    installs AwsVssComponents (vss.py)."""
    result = _moto_send_command(self)
    command = self.ssm_backend._commands[-1]
    if command.document_name == vss.PACKAGE_DOCUMENT:
        ec2_backend = ec2_backends[self.ssm_backend.account_id][self.ssm_backend.region_name]
        for invocation in command.invocations:
            status, output = vss.configure_package(ec2_backend, invocation["InstanceId"], command.parameters)
            invocation.update(Status=status, StatusDetails=status, StandardOutputContent=output)
            invocation.update(ResponseCode=0 if status == "Success" else 1)
        return result
    if command.document_name != "AWS-RunShellScript":
        return result
    commands, timeout = sandbox.shell_script(command.parameters)
    for invocation in command.invocations:
        instance_sandbox = sandbox.of(invocation["InstanceId"])
        if instance_sandbox is None:
            continue
        invocation.update(Status="InProgress", StatusDetails="InProgress", ResponseCode=-1)
        threading.Thread(target=_run_on, args=(instance_sandbox, invocation, commands, timeout), daemon=True).start()
    return result


def install() -> None:
    responses.SimpleSystemManagerResponse.start_automation_execution = start_automation_execution
    responses.SimpleSystemManagerResponse.get_automation_execution = get_automation_execution
    responses.SimpleSystemManagerResponse.send_command = send_command
