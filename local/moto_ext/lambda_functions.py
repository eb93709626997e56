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

A stack may also call a function of the operator's own (a verify run's validation hook). Such a function is
not snapmgmt's to build: a test scripts what it answers, and each call is kept with what it was given and
which of the restored resources it names existed when it was called (Invoke through moto's Lambda API, the
caller's role authorized for lambda:InvokeFunction on it):

POST /moto-api/snapmgmt/lambda/answers {"function", "answers": [{"valid": false, "message": "..."}, ...]}: its
     next answers, in order ({"errorType", "errorMessage"}: a function error), then {"valid": true}
GET  /moto-api/snapmgmt/lambda/calls?function=NAME: its calls, {"event", "existing": {resourceId: bool}}
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


# The operator's functions a test scripts: name -> {"answers": [...], "calls": [...]}.
_scripted: dict = {}


def script(body: dict) -> None:
    with _lock:
        _scripted[body["function"]] = {"answers": list(body.get("answers", [])), "calls": []}


def calls_of(name: str) -> list:
    with _lock:
        return list(_scripted.get(name, {}).get("calls", []))


def _exists(resource_id: str, region: str = None) -> bool:
    """Whether a restored resource exists in the emulator now, in its Region (a copy's: the copy Region): a
    volume, an EFS or FSx file system, an ONTAP volume."""
    from moto.ec2.models import ec2_backends
    from moto.efs.models import efs_backends
    from moto.fsx.models import fsx_backends

    from . import fsx

    region = region or iam.region()
    if resource_id.startswith("vol-"):
        return resource_id in ec2_backends[iam.ACCOUNT][region].volumes
    if resource_id.startswith("fsvol-"):
        return resource_id in fsx.volumes(fsx_backends[iam.ACCOUNT][region])
    return (
        resource_id in efs_backends[iam.ACCOUNT][region].file_systems_by_id
        or resource_id in fsx_backends[iam.ACCOUNT][region].file_systems
    )


def _invoke_scripted(original):
    def invoke(self, *args, **kwargs):
        name = urllib.parse.unquote(self.path.split("/functions/", 1)[1].split("/", 1)[0])
        name = name.split(":function:")[-1].split(":")[0]
        with _lock:
            entry = _scripted.get(name)
        if entry is None:
            return original(self, *args, **kwargs)
        event = json.loads(self.body or "{}")
        restored = [r for r in event.get("restored", []) if isinstance(r, dict)]
        existing = {r.get("resourceId", ""): _exists(r.get("resourceId", ""), r.get("region")) for r in restored}
        with _lock:
            entry["calls"].append({"event": event, "existing": existing})
            answer = entry["answers"].pop(0) if entry["answers"] else {"valid": True}
        headers = {"X-Amz-Executed-Version": "$LATEST"}
        if "errorType" in answer:
            headers["X-Amz-Function-Error"] = "Unhandled"
        return 200, headers, json.dumps(answer)

    return invoke


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
    from moto.awslambda.responses import LambdaResponse

    LambdaResponse.invoke = _invoke_scripted(LambdaResponse.invoke)
