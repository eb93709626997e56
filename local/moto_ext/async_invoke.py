"""Asynchronous Lambda invokes, as the schedule makes them, and their on-failure destinations.

moto runs functions only in Docker and knows nothing of the functions `cargo lambda watch` serves. Here an
`Invoke` with InvocationType=Event on moto's endpoint answers 202 at once and runs the function in the
background through cargo lambda watch. A function error is retried MaximumRetryAttempts times (the
function's event-invoke config, else Lambda's default of 2), SNAPMGMT_EMULATOR_ASYNC_RETRY_SECONDS apart
(AWS waits about one, then two minutes); then Lambda's invocation record goes to the OnFailure destination,
an SNS topic or an SQS queue, sent as the function's role, which must be allowed to (sns:Publish,
sqs:SendMessage): a role that may not loses the record, as on AWS. Put/Get/DeleteFunctionEventInvokeConfig
keep the configuration of these functions, which moto's own backend does not hold.
"""

import datetime
import json
import os
import threading
import time
import uuid
from urllib.parse import unquote

from moto.awslambda import responses

from . import iam, lambda_functions
from .lambda_functions import ENDPOINT_VARIABLE, FunctionInvoker

RETRY_SECONDS = float(os.environ.get("SNAPMGMT_EMULATOR_ASYNC_RETRY_SECONDS", "1"))
DEFAULT_RETRIES = 2
_configs: dict = {}
_lock = threading.Lock()


def _function_name(path: str) -> str:
    """The function a /functions/{name}/... path names: its name, or the name in its ARN."""
    name = unquote(path.split("/functions/", 1)[1].split("/", 1)[0])
    return name.split(":function:")[-1].split(":")[0]


def _served_locally() -> bool:
    return bool(os.environ.get(ENDPOINT_VARIABLE))


def _arn(name: str) -> str:
    return f"arn:aws:lambda:{_region(name)}:{iam.ACCOUNT}:function:{name}"


def _region(name: str) -> str:
    """The function's Region: its stack's."""
    return lambda_functions.route(name, "")[1]


def _deliver(name: str, destination: str, record: dict) -> None:
    """Sends the record to the destination as the function's role; a denied send is lost, as on AWS."""
    role = iam.role_of_function(name)
    service = destination.split(":")[2]
    action = {"sns": "sns:Publish", "sqs": "sqs:SendMessage"}.get(service)
    if action is None:
        return
    if iam.governs(role):
        try:
            iam.authorize(role, action, destination)
        except iam.Denied:
            return
    message = json.dumps(record)
    if service == "sns":
        from moto.sns.models import sns_backends

        sns_backends[iam.ACCOUNT][_region(name)].publish(message, arn=destination)
    else:
        from moto.sqs.models import sqs_backends

        sqs_backends[iam.ACCOUNT][_region(name)].send_message(destination.rsplit(":", 1)[-1], message)


def _run(name: str, payload: bytes, request_id: str) -> None:
    config = _configs.get(name, {})
    retries = int(config.get("MaximumRetryAttempts", DEFAULT_RETRIES))
    invoker = FunctionInvoker(os.environ[ENDPOINT_VARIABLE])
    for attempt in range(1, retries + 2):
        response = invoker.invoke(FunctionName=name, Payload=payload)
        body = response["Payload"].read()
        if not response.get("FunctionError"):
            return
        if attempt <= retries:
            time.sleep(RETRY_SECONDS * attempt)
    destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if not destination:
        return
    try:
        response_payload = json.loads(body)
    except ValueError:
        response_payload = body.decode(errors="replace")
    record = {
        "version": "1.0",
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds"),
        "requestContext": {
            "requestId": request_id,
            "functionArn": f"{_arn(name)}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": retries + 1,
        },
        "requestPayload": json.loads(payload or b"{}"),
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": response_payload,
    }
    _deliver(name, destination, record)


def install() -> None:
    original_invoke = responses.LambdaResponse.invoke

    def invoke(self):
        if self.headers.get("X-Amz-Invocation-Type") != "Event" or not _served_locally():
            return original_invoke(self)
        name = _function_name(self.path)
        request_id = str(uuid.uuid4())
        body = self.body if isinstance(self.body, bytes) else (self.body or "{}").encode()
        threading.Thread(target=_run, args=(name, body, request_id), daemon=True).start()
        return 202, {"status": "202", "x-amzn-RequestId": request_id}, b""

    responses.LambdaResponse.invoke = invoke

    def put_config(self):
        name = _function_name(self.path)
        config = {k: v for k, v in json.loads(self.body or "{}").items() if v is not None}
        config.update(FunctionArn=f"{_arn(name)}:$LATEST", LastModified=time.time())
        with _lock:
            _configs[name] = config
        return 200, {}, json.dumps(config)

    def get_config(self):
        name = _function_name(self.path)
        if name not in _configs:
            body = {"Type": "User", "Message": f"The function {name} has no event invoke config"}
            return 404, {"x-amzn-errortype": "ResourceNotFoundException"}, json.dumps(body)
        return 200, {}, json.dumps(_configs[name])

    def delete_config(self):
        with _lock:
            _configs.pop(_function_name(self.path), None)
        return 204, {}, ""

    responses.LambdaResponse.put_function_event_invoke_config = put_config
    responses.LambdaResponse.update_function_event_invoke_config = put_config
    responses.LambdaResponse.get_function_event_invoke_config = get_config
    responses.LambdaResponse.delete_function_event_invoke_config = delete_config
