"""Step Functions as strict as AWS, and Distributed Map as AWS runs it.

moto's engine runs Distributed Map (ItemReader from S3, ListMapRuns, DescribeMapRun) but its children
share one throw-away event history, its ResultWriter writes an empty manifest, its tolerated-failure
thresholds are never applied, and it enforces no execution history quota. AWS's documented behaviour,
added here:
- every execution, and every Distributed Map child execution, holds at most 25,000 history events; the
  execution fails with States.Runtime at the first state it would enter beyond that;
- States.ALL in a Retry or Catch does not match States.Runtime or States.DataLimitExceeded (terminal errors);
- StartExecution refuses an input over 262,144 bytes (ValidationException), as the API's length constraint;
- each child of a Distributed Map is its own execution: its own history (counted), its own status, output,
  error and cause;
- ResultWriter writes SUCCEEDED_n.json and FAILED_n.json beside manifest.json, in AWS's format, for the
  Map Run of its own state (moto picked the last Map Run of the execution, wrong with parallel maps);
- ToleratedFailurePercentage and ToleratedFailureCount fail the Map Run with
  States.ExceedToleratedFailureThreshold when both are exceeded (AWS: either, when both are set);
- an integer ToleratedFailurePercentage parses (moto's grammar takes only a decimal number);
- ListMapRuns of an execution whose engine has not started yet lists none (moto answered 500).
The Map Runs' children are readable at GET /moto-api/snapmgmt/sfn/map-runs?executionArn=... (control.py).
"""

import datetime
import json
import threading
import uuid

from moto.stepfunctions.parser import models as parser_models
from moto.stepfunctions.parser.api import ExecutionFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name import error_equals_decl
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import StatesErrorNameType
from moto.stepfunctions.parser.asl.component.state import state as state_module
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration import distributed_iteration_component
from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor import (
    distributed_item_processor_worker,
)
from moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval import (
    resource_eval_s3,
)
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.eval.event.event_manager import EventManager
from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped
from moto.stepfunctions.parser.asl.eval.states import ItemData, MapData
from moto.stepfunctions.parser.asl.parse import asl_parser
from moto.stepfunctions.parser.asl.utils.boto_client import boto_client_for

from . import iam

HISTORY_EVENT_LIMIT = 25_000
INPUT_LIMIT_BYTES = 262_144
TERMINAL_ERRORS = {StatesErrorNameType.StatesRuntime, StatesErrorNameType.StatesStatesDataLimitExceeded}

# Map Run ARN -> its children, for the ResultWriter and the control route.
_children = {}
_children_lock = threading.Lock()


def children_of(map_run_arn: str) -> list:
    with _children_lock:
        return list(_children.get(map_run_arn, []))


def map_runs_of(execution_arn: str) -> dict:
    with _children_lock:
        return {arn: list(kids) for arn, kids in _children.items() if kids and kids[0]["parent"] == execution_arn}


def _failure(error: StatesErrorNameType, cause: str, state_name: str = "") -> FailureEventException:
    """A failure that ends the execution (ExecutionFailed): no state-level event is written for it. Its error
    name is what Retry and Catch match on."""
    event = FailureEvent.__new__(FailureEvent)
    event.state_name = state_name
    event.source_event_id = 0
    event.error_name = StatesErrorName(typ=error)
    event.event_type = HistoryEventType.ExecutionFailed
    event.event_details = EventDetails(
        executionFailedEventDetails=ExecutionFailedEventDetails(error=error.to_name(), cause=cause)
    )
    return FailureEventException(failure_event=event)


def _history_length(env) -> int:
    return len(env.event_manager._history_event_list)


def _install_history_limit() -> None:
    original = state_module.CommonStateField._eval_body

    def _eval_body(self, env):
        if _history_length(env) >= HISTORY_EVENT_LIMIT:
            raise _failure(
                StatesErrorNameType.StatesRuntime,
                f"The execution reached the maximum number of events in its history ({HISTORY_EVENT_LIMIT:,}) "
                f"before entering state '{self.name}'.",
                self.name,
            )
        return original(self, env)

    state_module.CommonStateField._eval_body = _eval_body


def _install_terminal_errors() -> None:
    """States.ALL matches every error but the terminal ones, as on AWS."""
    original = error_equals_decl.ErrorEqualsDecl._eval_body

    def _eval_body(self, env):
        error_name = env.stack[-1]
        terminal = isinstance(error_name, StatesErrorName) and error_name.typ in TERMINAL_ERRORS
        if terminal and not any(isinstance(n, StatesErrorName) and n.typ == error_name.typ for n in self.error_names):
            env.stack.pop()
            env.stack.append(False)
            return
        original(self, env)

    error_equals_decl.ErrorEqualsDecl._eval_body = _eval_body


def _install_input_limit() -> None:
    original = parser_models.StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):
        size = len((execution_input or "").encode("utf-8"))
        if size > INPUT_LIMIT_BYTES:
            from moto.stepfunctions.exceptions import ValidationException

            raise ValidationException(
                "1 validation error detected: Value at 'input' failed to satisfy constraint: "
                f"Member must have length less than or equal to {INPUT_LIMIT_BYTES} (it is {size} bytes)"
            )
        # AWS names an unnamed execution with a UUID; moto named every one "None" (a second one "already exists").
        return original(self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header)

    parser_models.StepFunctionsParserBackend.start_execution = start_execution


def _install_early_list_map_runs() -> None:
    original = parser_models.StepFunctionsParserBackend.list_map_runs

    def list_map_runs(self, execution_arn):
        execution = self.describe_execution(execution_arn=execution_arn)
        if getattr(execution, "exec_worker", None) is None or execution.exec_worker.env is None:
            return {"mapRuns": []}
        return original(self, execution_arn)

    parser_models.StepFunctionsParserBackend.list_map_runs = list_map_runs


def _install_integer_tolerance() -> None:
    """AWS takes "ToleratedFailurePercentage": 100; moto's grammar only 100.0. Normalised before parsing."""
    original = asl_parser.AmazonStateLanguageParser.parse

    def normalise(node):
        if isinstance(node, dict):
            value = node.get("ToleratedFailurePercentage")
            if isinstance(value, int) and not isinstance(value, bool):
                node["ToleratedFailurePercentage"] = float(value)
            for child in node.values():
                normalise(child)
        elif isinstance(node, list):
            for child in node:
                normalise(child)

    def parse(definition, *args, **kwargs):
        try:
            parsed = json.loads(definition)
        except (TypeError, ValueError):
            return original(definition, *args, **kwargs)
        normalise(parsed)
        return original(json.dumps(parsed), *args, **kwargs)

    asl_parser.AmazonStateLanguageParser.parse = staticmethod(parse)


def _now() -> datetime.datetime:
    return datetime.datetime.now(tz=datetime.timezone.utc)


def _largest_payload(events: list) -> int:
    largest = 0
    for event in events:
        for details in event.values():
            if isinstance(details, dict):
                for key in ("input", "output"):
                    if isinstance(details.get(key), str):
                        largest = max(largest, len(details[key].encode("utf-8")))
    return largest


def _install_child_executions() -> None:
    """Each job of a Distributed Map runs as its own child execution, with its own history and outcome."""
    Worker = distributed_item_processor_worker.DistributedItemProcessorWorker

    def _eval_job(self, env, job):
        record = self._map_run_record
        record.item_counter.total.count()
        record.item_counter.running.count()
        record.execution_counter.total.count()
        record.execution_counter.running.count()

        parent_arn = record.execution_arn
        child_name = uuid.uuid4().hex
        child = {
            "parent": parent_arn,
            "name": child_name,
            "executionArn": f"{record.map_state_machine_arn.replace(':stateMachine:', ':execution:')}:{child_name}",
            "stateMachineArn": record.map_state_machine_arn,
            "index": job.job_index,
            "input": job.job_input,
            "startDate": _now(),
        }
        # Its own history: the Map's children never count against the parent's 25,000 events.
        env.event_manager = EventManager()
        env.event_manager.add_event(context=env.event_history_context, event_type=HistoryEventType.ExecutionStarted)
        job_output = None
        status, error, cause = "FAILED", None, None
        try:
            # A child execution is started by the state machine's role, as on AWS.
            role = iam.role_of_env(env)
            if iam.governs(role):
                # AWS authorizes it on the state machine itself, not on the Map Run's ARN (NAME/label).
                iam.authorize(role, "states:StartExecution", record.map_state_machine_arn.split("/")[0])
            env.states.context_object.context_object_data["Map"] = MapData(
                Item=ItemData(Index=job.job_index, Value=job.job_input)
            )
            env.states.reset(job.job_input)
            env.stack.append(env.states.get_input())
            self._eval_input(env_frame=env)
            child["input"] = env.states.get_input()  # as the ItemSelector made it
            job.job_program.eval(env)
            end_state = env.program_state()
            if isinstance(end_state, ProgramError):
                details = end_state.error or {}
                error, cause = details.get("error"), details.get("cause")
            elif isinstance(end_state, ProgramStopped):
                status, error, cause = "ABORTED", end_state.error, end_state.cause
            else:
                status = "SUCCEEDED"
                job_output = env.states.get_input()
        except FailureEventException as failure:
            error, cause = failure.extract_error_cause_pair() or (None, None)
        except Exception as exception:  # an engine error: the child fails, as AWS reports States.Runtime
            error, cause = StatesErrorNameType.StatesRuntime.to_name(), f"{type(exception).__name__}({exception})"
        finally:
            record.item_counter.running.offset(-1)
            record.execution_counter.running.offset(-1)
            counters = {"SUCCEEDED": "succeeded", "FAILED": "failed", "ABORTED": "aborted"}[status]
            getattr(record.item_counter, counters).count()
            getattr(record.execution_counter, counters).count()
            if status == "SUCCEEDED":
                record.item_counter.results_written.count()
                record.execution_counter.results_written.count()
            end_type = {
                "SUCCEEDED": HistoryEventType.ExecutionSucceeded,
                "FAILED": HistoryEventType.ExecutionFailed,
                "ABORTED": HistoryEventType.ExecutionAborted,
            }[status]
            env.event_manager.add_event(context=env.event_history_context, event_type=end_type)
            events = env.event_manager.get_event_history()
            child.update(
                status=status,
                output=job_output,
                error=error,
                cause=cause,
                stopDate=_now(),
                historyEvents=len(events),
                statesEntered=[
                    e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e
                ],
                largestPayload=_largest_payload(events),
            )
            with _children_lock:
                _children.setdefault(record.map_run_arn, []).append(child)
            job.job_output = job_output

    Worker._eval_job = _eval_job


def _install_tolerance_and_record() -> None:
    Component = distributed_iteration_component.DistributedIterationComponent
    original_map_run = Component._map_run
    original_eval_body = Component._eval_body

    def _map_run(self, env, eval_input):
        original_map_run(self, env, eval_input)
        record = eval_input.map_run_record
        kids = children_of(record.map_run_arn)
        failed = sum(1 for k in kids if k["status"] != "SUCCEEDED")
        if not kids or not failed:
            return
        over_count = failed > (eval_input.tolerated_failure_count or 0)
        over_percent = failed * 100.0 / len(kids) > (eval_input.tolerated_failure_percentage or 0.0)
        if over_count and over_percent:
            raise _failure(
                StatesErrorNameType.StatesExceedToleratedFailureThreshold,
                "The specified tolerated failure threshold was exceeded",
            )

    def _eval_body(self, env):
        # The ResultWriter that follows in this same frame writes this Map Run's results.
        env.snapmgmt_map_run_record = env.stack[-1].map_run_record
        original_eval_body(self, env)

    Component._map_run = _map_run
    Component._eval_body = _eval_body


def _iso(moment: datetime.datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def result_entry(child: dict) -> dict:
    """One execution as AWS writes it in a ResultWriter file: inputs and outputs as JSON strings."""
    entry = {
        "ExecutionArn": child["executionArn"],
        "Input": json.dumps(child["input"], separators=(",", ":")),
        "InputDetails": {"Included": True},
        "Name": child["name"],
        "RedriveCount": 0,
        "RedriveStatus": "NOT_REDRIVABLE",
        "RedriveStatusReason": "Execution is SUCCEEDED and cannot be redriven"
        if child["status"] == "SUCCEEDED"
        else "Execution is not redrivable locally",
        "StartDate": _iso(child["startDate"]),
        "StateMachineArn": child["stateMachineArn"],
        "Status": child["status"],
        "StopDate": _iso(child["stopDate"]),
    }
    if child["status"] == "SUCCEEDED":
        entry["Output"] = json.dumps(child["output"], separators=(",", ":"))
        entry["OutputDetails"] = {"Included": True}
    else:
        entry["Error"] = child["error"]
        entry["Cause"] = child["cause"]
    return entry


def _install_result_writer() -> None:
    Writer = resource_eval_s3.ResourceEvalS3

    def _handle_put_object(env, resource_runtime_part, state_credentials):
        parameters = env.stack.pop()
        env.stack.pop()  # the children's outputs: written from the Map Run's records instead
        s3 = iam.with_role_header(
            boto_client_for(service="s3", region=resource_runtime_part.region, state_credentials=state_credentials)
        )
        record = env.snapmgmt_map_run_record
        run_id = record.map_run_arn.split(":")[-1]
        prefix = parameters.get("Prefix", "")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        bucket = parameters["Bucket"]
        files = {"FAILED": [], "PENDING": [], "SUCCEEDED": []}
        kids = sorted(children_of(record.map_run_arn), key=lambda k: k["index"])
        for status in ("SUCCEEDED", "FAILED"):
            entries = [result_entry(k) for k in kids if (k["status"] == "SUCCEEDED") == (status == "SUCCEEDED")]
            if not entries:
                continue
            key = f"{prefix}{run_id}/{status}_0.json"
            body = json.dumps(entries).encode("utf-8")
            s3.put_object(Bucket=bucket, Key=key, Body=body)
            files[status].append({"Key": key, "Size": len(body)})
        manifest = {"DestinationBucket": bucket, "MapRunArn": record.map_run_arn, "ResultFiles": files}
        key = f"{prefix}{run_id}/manifest.json"
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(manifest, indent=2).encode("utf-8"))
        env.stack.append({"MapRunArn": record.map_run_arn, "ResultWriterDetails": {"Bucket": bucket, "Key": key}})

    Writer._handle_put_object = staticmethod(_handle_put_object)


def install() -> None:
    _install_history_limit()
    _install_terminal_errors()
    _install_input_limit()
    _install_integer_tolerance()
    _install_early_list_map_runs()
    _install_child_executions()
    _install_tolerance_and_record()
    _install_result_writer()
