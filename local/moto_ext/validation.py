"""Every request checked against its service's published model before moto handles it, as the service would.

moto checks few of the constraints a service publishes. The botocore models that moto ships carry them for
every operation: required members, string and list lengths, patterns, numeric ranges, enum values. Here each
request is parsed with moto's own model-driven parsers (the protocol's: query, ec2, json, rest-json,
rest-xml) and every member checked. A request that breaks a rule is refused before moto sees it, with the
service's own error code and status, and a message in AWS's form naming the member:
`1 validation error detected: Value 'x' at 'tags.1.member.value' failed to satisfy constraint: ...`.

Where a model lacks a constraint that the service's API reference documents and snapmgmt depends on, it is
added below (SUPPLEMENTS), with the reference cited. Patterns are matched with the `regex` module, which
knows the `\\p{L}` classes AWS's patterns use; like Smithy's pattern trait, they are not anchored.

Every refusal is kept (GET /moto-api/snapmgmt/validation) so a test can show what was refused and why.
"""

import functools
import threading

import regex
from botocore.model import Shape
from moto.core.exceptions import JsonRESTError

from . import hooks
from .iam import XmlDenial

# moto's service names to botocore's.
BOTOCORE_NAME = {"awslambda": "lambda", "efs": "efs", "stepfunctions": "stepfunctions"}

# Constraints the API references document and the models leave out: (service, shape name) -> metadata.
SUPPLEMENTS = {
    # AWS Backup API reference, TagResource and StartBackupJob (RecoveryPointTags): tag values may hold only
    # letters, numbers, spaces and _ . : / = + - @, as in FSx and EFS (whose models carry the pattern). The
    # Backup model's `Tags` map has string keys and values without one.
    ("backup", "Tags.value"): {"max": 256, "pattern": r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"},
    ("backup", "Tags.key"): {"min": 1, "max": 128, "pattern": r"^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"},
}

# The error each service answers a constraint violation with: (missing member, other violation), all 400.
# Coral's JSON services answer ValidationException; EC2 and the query services their own codes; EFS and AWS
# Backup document theirs in every operation's Errors section.
ERROR_CODES = {
    "ec2": ("MissingParameter", "InvalidParameterValue"),
    "efs": ("BadRequest", "BadRequest"),
    "backup": ("MissingParameterValueException", "InvalidParameterValueException"),
    "iam": ("ValidationError", "ValidationError"),
    "sns": ("InvalidParameter", "InvalidParameter"),
    "cloudwatch": ("MissingParameter", "InvalidParameterValue"),
    "s3": ("InvalidArgument", "InvalidArgument"),
}
DEFAULT_CODES = ("ValidationException", "ValidationException")

_refusals = []
_lock = threading.Lock()


def refusals() -> list:
    with _lock:
        return list(_refusals)


@functools.cache
def _compiled(pattern: str):
    try:
        return regex.compile(pattern)
    except regex.error:
        return None


def _constraints(service: str, shape: Shape, role: str | None) -> dict:
    metadata = dict(shape.metadata)
    if role:
        metadata.update(SUPPLEMENTS.get((service, role), {}))
    return metadata


def _quote(value) -> str:
    text = value if isinstance(value, str) else str(value)
    return f"'{text if len(text) <= 200 else text[:200] + '...'}'"


def violations(service: str, shape: Shape, value, path: str = "", role: str | None = None) -> list[tuple]:
    """(kind, message) for each rule the value breaks; kind is 'missing' or 'invalid'."""
    found = []
    where = f" at '{path}'" if path else ""
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            return found
        for name in shape.required_members:
            if value.get(name) is None:
                found.append(
                    (
                        "missing",
                        f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null",
                    )
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                found += violations(service, member, value[name], _join(path, name), f"{shape.name}.{name}")
        return found
    metadata = _constraints(service, shape, role)
    low, high = metadata.get("min"), metadata.get("max")

    def broken(rule: str) -> None:
        found.append(("invalid", f"Value {_quote(value)}{where} failed to satisfy constraint: Member must {rule}"))

    if shape.type_name in ("string", "blob", "list", "map") and hasattr(value, "__len__"):
        if low is not None and len(value) < low:
            broken(f"have length greater than or equal to {low}")
        if high is not None and len(value) > high:
            broken(f"have length less than or equal to {high}")
    if shape.type_name == "string" and isinstance(value, str):
        pattern = metadata.get("pattern")
        compiled = _compiled(pattern) if pattern else None
        if compiled is not None and not compiled.search(value):
            broken(f"satisfy regular expression pattern: {pattern}")
        if shape.enum and value not in shape.enum:
            broken(f"satisfy enum value set: [{', '.join(shape.enum)}]")
    if shape.type_name in ("integer", "long", "float", "double") and isinstance(value, (int, float)):
        if low is not None and value < low:
            broken(f"have value greater than or equal to {low}")
        if high is not None and value > high:
            broken(f"have value less than or equal to {high}")
    if shape.type_name == "list" and isinstance(value, list):
        for index, item in enumerate(value, start=1):
            found += violations(service, shape.member, item, f"{path}.{index}.member", f"{shape.name}.member")
    if shape.type_name == "map" and isinstance(value, dict):
        for key, item in value.items():
            found += violations(service, shape.key, key, f"{path}.key", f"{shape.name}.key")
            found += violations(service, shape.value, item, f"{path}.{key}", f"{shape.name}.value")
    return found


def _join(path: str, name: str) -> str:
    # AWS names members in lower camel case in these messages (`tags.1.member.value`).
    name = name[:1].lower() + name[1:]
    return f"{path}.{name}" if path else name


def refusal(service: str, operation: str, found: list[tuple]):
    """The service's error for these violations, and the refusal kept."""
    missing, invalid = ERROR_CODES.get(service, DEFAULT_CODES)
    code = missing if all(kind == "missing" for kind, _ in found) else invalid
    count = len(found)
    message = f"{count} validation error{'s' if count > 1 else ''} detected: " + "; ".join(m for _, m in found)
    with _lock:
        _refusals.append({"service": service, "operation": operation, "code": code, "message": message})
    if service == "ec2":
        error = XmlDenial(code, message, wrapped=True)
    elif service in ("s3", "iam", "sns", "cloudwatch"):
        error = XmlDenial(code, message, wrapped=False)
    else:
        error = JsonRESTError(code, message)
    error.code = 400
    return error


def _parsed(response, operation_model) -> dict | None:
    """The request's input as the model reads it, by moto's parser for its protocol; None if unreadable."""
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.request import determine_request_protocol

    request = response.normalized_request
    try:
        protocol = determine_request_protocol(operation_model.service_model, request.content_type)
        parser = PROTOCOL_PARSERS[protocol](operation_model)
        if not response.uri_match and protocol.startswith("rest"):
            response._get_action_from_method_and_request_uri(request)
        return parser.parse(
            {
                "method": request.method,
                "values": request.values,
                "headers": request.headers,
                "body": request.data,
                "url_path": request.path,
                "url_params": response.uri_match,
            }
        )
    except Exception:  # noqa: BLE001 - a request moto's parser cannot read is left to moto, as before
        return None


def check(response, operation: str, service: str) -> None:
    """Raises the service's error if the request breaks its operation's published constraints."""
    from moto.core.utils import get_service_model

    name = BOTOCORE_NAME.get(service, service)
    try:
        operation_model = get_service_model(name).operation_model(operation)
    except Exception:  # noqa: BLE001 - an operation the model does not know: moto answers it as before
        return
    if operation_model.input_shape is None:
        return
    params = _parsed(response, operation_model)
    if params is None:
        return
    found = violations(name, operation_model.input_shape, params)
    if found:
        raise refusal(name, operation, found)


def install() -> None:
    hooks.before_action(check)


def seeded_tags(service: str, shape_name: str, tags) -> list[str]:
    """What the service would refuse in these tags, had they come in a request (as `shape_name` of its model):
    the control routes that seed backups as a job would leave them hold their tags to the same rules."""
    from moto.core.utils import get_service_model

    name = BOTOCORE_NAME.get(service, service)
    shape = get_service_model(name).shape_for(shape_name)
    return [message for _, message in violations(name, shape, tags, _join("", shape_name))]
