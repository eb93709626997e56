"""AWSEC2-CreateVssSnapshot, AWS's Run Command document for VSS snapshots of a Windows instance, as AWS documents
it: the emulator has no Windows and no VSS, so this is the document's contract, not its PowerShell.

- Its parameters as AWS declares them: ExcludeBootVolume, NoWriters, CopyOnly, CreateAmi, SaveVssMetadata and
  CollectDiagnosticLogs are "True" or "False"; `tags` is `Key=K,Value=V;Key=...` and may not name the reserved
  keys (Device, AppConsistent, AwsVssConfig); executionTimeout is a number of seconds; no other parameter.
- Its prerequisites, checked before any snapshot, each failing the command naming it: a Windows instance, the
  AwsVssComponents package installed (a test installs it through the control route), an instance profile.
- The snapshots are made from the instance, as the instance profile's role: ec2:DescribeInstanceAttribute,
  then one CreateSnapshots of every volume (the boot volume left out as ExcludeBootVolume says) tagged at
  creation with the given tags, then AWS's own tags on each (Device, AwsVssConfig, and AppConsistent=true when
  the VSS freeze held), each call authorized for that role as iam.py authorizes every principal's.
- A VSS failure (a test's knob, e.g. a writer that timed out) leaves the snapshots made without AppConsistent,
  as AWS documents, and fails the command.

AWS-ConfigureAWSPackage (SendCommand) installs and uninstalls the AwsVssComponents package on Windows instances,
as the README tells a user to: Distributor's only package here.
"""

import re

from . import iam

DOCUMENT = "AWSEC2-CreateVssSnapshot"
PACKAGE_DOCUMENT, PACKAGE, LATEST = "AWS-ConfigureAWSPackage", "AwsVssComponents", "2.4.0"
FLAGS = ("ExcludeBootVolume", "NoWriters", "CopyOnly", "CreateAmi", "SaveVssMetadata", "CollectDiagnosticLogs")
PARAMETERS = (*FLAGS, "AmiName", "description", "tags", "executionTimeout")
RESERVED_TAGS = ("Device", "AppConsistent", "AwsVssConfig")
TAG = re.compile(r"^Key=([^,;=]+),Value=([^;]*)$")

# A test's knobs, by instance: the AwsVssComponents version installed, and the VSS failure of its next runs.
components: dict = {}
vss_failures: dict = {}


class CommandFailed(Exception):
    pass


def _value(parameters: dict, name: str, default: str = "") -> str:
    value = parameters.get(name, default)
    return value[0] if isinstance(value, list) else str(value)


def parse_tags(text: str) -> dict:
    """`Key=K,Value=V;Key=K2,Value=V2` as a dict; raises CommandFailed naming a malformed or reserved one."""
    tags = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        match = TAG.match(item)
        if not match:
            raise CommandFailed(f"InvalidParameters: tag {item!r} is not in the form Key=<key>,Value=<value>")
        key, value = match.groups()
        if key in RESERVED_TAGS:
            raise CommandFailed(f"InvalidParameters: the tag key {key} is reserved by AWS VSS and cannot be specified")
        tags[key] = value
    return tags


def check_parameters(parameters: dict) -> dict:
    """The command's tags, once its parameters are as AWS's document declares them."""
    unknown = sorted(set(parameters) - set(PARAMETERS))
    if unknown:
        raise CommandFailed(f"InvalidParameters: {unknown[0]} is not a parameter of {DOCUMENT}")
    for flag in FLAGS:
        if _value(parameters, flag, "False") not in ("True", "False"):
            raise CommandFailed(f"InvalidParameters: {flag} must be True or False, not {_value(parameters, flag)!r}")
    timeout = _value(parameters, "executionTimeout", "600")
    if not timeout.isdigit():
        raise CommandFailed(f"InvalidParameters: executionTimeout must be a number of seconds, not {timeout!r}")
    if _value(parameters, "CreateAmi", "False") == "True":
        raise CommandFailed("the emulator does not model CreateAmi=True (snapmgmt takes snapshots)")
    return parse_tags(_value(parameters, "tags"))


def is_windows(instance) -> bool:
    """A Windows instance, as moto records its image's platform."""
    return (getattr(instance, "platform", None) or "").lower() == "windows"


def configure_package(ec2_backend, instance_id: str, parameters: dict) -> tuple:
    """AWS-ConfigureAWSPackage on one instance: (its status, its output)."""
    name, action = _value(parameters, "name"), _value(parameters, "action", "Install")
    if name != PACKAGE:
        return "Failed", f"the emulator's Distributor has the {PACKAGE} package only, not {name!r}"
    if not is_windows(ec2_backend.get_instance(instance_id)):
        return "Failed", f"{PACKAGE} is a package for Windows instances: {instance_id} is not one"
    if action == "Install":
        components[instance_id] = _value(parameters, "version") or LATEST
        return "Success", f"Successfully installed {PACKAGE} {components[instance_id]}"
    if action == "Uninstall":
        components.pop(instance_id, None)
        return "Success", f"Successfully uninstalled {PACKAGE}"
    return "Failed", f"action must be Install or Uninstall, not {action!r}"


def _instance_role(ec2_backend, instance_id: str) -> str:
    association = ec2_backend.iam_instance_profile_associations.get(instance_id)
    profile = getattr(association, "iam_instance_profile", None)
    roles = getattr(profile, "roles", None) or []
    if not roles:
        raise CommandFailed(
            "The instance has no IAM instance profile with a role: AWS VSS creates the snapshots with the "
            "instance's credentials; attach a role allowed to create and tag snapshots"
        )
    return roles[0].arn


def _authorize(role: str, action: str, resource: str, context: dict) -> None:
    if not iam.governs(role):
        return
    try:
        iam.authorize(role, action, resource, context)
    except iam.Denied as denied:
        raise CommandFailed(f"UnauthorizedOperation: {denied.message}") from None


def run(ec2_backend, instance_id: str, parameters: dict) -> str:
    """Runs the document on the instance; its output (the snapshots made), or CommandFailed with its message."""
    tags = check_parameters(parameters)
    instance = ec2_backend.get_instance(instance_id)
    if not is_windows(instance):
        raise CommandFailed(f"{DOCUMENT} supports Windows instances only: {instance_id} is not one")
    version = components.get(instance_id)
    if not version:
        raise CommandFailed(
            "AwsVssComponents is not installed on the instance: install it (AWS-ConfigureAWSPackage, name "
            "AwsVssComponents) or run AWSEC2-VssInstallAndSnapshot"
        )
    role = _instance_role(ec2_backend, instance_id)
    _authorize(role, "ec2:DescribeInstanceAttribute", iam.ec2_arn("instance", instance_id), {})
    for action, resource, context in iam.create_snapshots_authorizations(instance_id, tags):
        _authorize(role, action, resource, context)
    exclude = _value(parameters, "ExcludeBootVolume", "False") == "True"
    specification = {"InstanceId": instance_id, "ExcludeBootVolume": exclude}
    snapshots = ec2_backend.create_snapshots(specification, _value(parameters, "description"), tags)
    device_of = {m.volume_id: device for device, m in instance.get_block_device_mapping}
    failure = vss_failures.get(instance_id)
    for snapshot in snapshots:
        own = {"Device": device_of.get(snapshot.volume.id, ""), "AwsVssConfig": f"AwsVssComponents {version}"}
        if not failure:
            own["AppConsistent"] = "true"
        context = {**iam.request_tags(own), **iam.resource_tags(dict(ec2_backend.tags.get(snapshot.id, {})), "ec2")}
        _authorize(role, "ec2:CreateTags", iam.ec2_arn("snapshot", snapshot.id), context)
        ec2_backend.create_tags([snapshot.id], own)
    made = " ".join(s.id for s in snapshots)
    if failure:
        raise CommandFailed(f"VSS failed ({failure}); snapshots made without AppConsistent: {made}")
    return f"Snapshots created: {made}"
