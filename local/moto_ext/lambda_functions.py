"""Step Functions executes for real, and its Lambda Tasks reach the real function binaries.

moto's Step Functions engine (its execute_state_machine mode) runs ASL, and invokes Lambda Tasks
through a boto3 Lambda client aimed at moto itself, which can run functions only in Docker. Here
that client is aimed at `cargo lambda watch`, which serves the workspace's Lambda binaries over the
Lambda Invoke API. One difference is bridged: for a function error, cargo lambda answers HTTP 500
with the error body, where Lambda answers 200 with the X-Amz-Function-Error header; the adapter
turns the first into the second, so Retry and Catch see the function's errorType as on AWS.

A second stack deployed beside the first (local/add_stack.py) has functions of its own names, served by a
`cargo lambda watch` of its own (with its own environments) under their binaries' names; it registers them:

POST /moto-api/snapmgmt/lambda/functions {"endpoint", "region", "functions": {name: binary}}
"""

import io
import json
import os
import threading
import urllib.error
import urllib.parse
import urllib.request

import botocore.exceptions
from moto.core.config import default_user_config
from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

from . import iam

# Where `cargo lambda watch` listens; set by emulator.py --lambda-endpoint.
ENDPOINT_VARIABLE = "SNAPMGMT_LAMBDA_ENDPOINT"
# Functions served elsewhere than the first stack's watch: name -> (endpoint, Region, binary).
_routes: dict = {}
_lock = threading.Lock()


def register(body: dict) -> None:
    with _lock:
        for name, binary in body["functions"].items():
            _routes[name] = (body["endpoint"].rstrip("/"), body["region"], binary)


def route(name: str, default_endpoint: str) -> tuple:
    """(endpoint, Region, binary) of a function: a registered one's, else the first stack's watch's."""
    with _lock:
        return _routes.get(name) or (default_endpoint, iam.REGION, name)


class FunctionInvoker:
    """The one call of a boto3 Lambda client that the engine makes, against cargo lambda watch."""

    def __init__(self, endpoint: str):
        self.endpoint = endpoint.rstrip("/")

    def invoke(self, FunctionName: str, Payload=b"{}", **_ignored) -> dict:
        # An ARN (arn:aws:lambda:region:account:function:name[:qualifier]) names the binary by its name.
        name = FunctionName.split(":function:")[-1].split(":")[0]
        endpoint, region, binary = route(name, self.endpoint)
        role = iam.acting_role()
        if iam.governs(role):
            try:
                iam.authorize(role, "lambda:InvokeFunction", f"arn:aws:lambda:{region}:{iam.ACCOUNT}:function:{name}")
            except iam.Denied as denied:
                error = {"Error": {"Code": "AccessDeniedException", "Message": denied.message}}
                raise botocore.exceptions.ClientError(error, "Invoke") from None
        if isinstance(Payload, str):
            Payload = Payload.encode()
        url = f"{endpoint}/2015-03-31/functions/{urllib.parse.quote(binary)}/invocations"
        request = urllib.request.Request(url, data=Payload or b"{}", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=900) as response:
                return {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": io.BytesIO(response.read())}
        except urllib.error.HTTPError as error:
            body = error.read()
            if error.code == 500 and _is_function_error(body):
                return {
                    "StatusCode": 200,
                    "FunctionError": "Unhandled",
                    "ExecutedVersion": "$LATEST",
                    "Payload": io.BytesIO(body),
                }
            raise


def _is_function_error(body: bytes) -> bool:
    try:
        return "errorType" in json.loads(body)
    except ValueError:
        return False


def install() -> None:
    """Switches on the execution engine; aims its Lambda Tasks at cargo lambda watch when one is set."""
    default_user_config["stepfunctions"]["execute_state_machine"] = True
    original = lambda_eval_utils.boto_client_for

    def boto_client_for(region: str, service: str, state_credentials=None):
        endpoint = os.environ.get(ENDPOINT_VARIABLE)
        if service == "lambda" and endpoint:
            return FunctionInvoker(endpoint)
        return original(region=region, service=service, state_credentials=state_credentials)

    lambda_eval_utils.boto_client_for = boto_client_for
