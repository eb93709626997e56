"""The IAM policy of every principal of template.yaml, resolved as CloudFormation would for the local stack.

Usage: iam_template.py [--transformed]   (the principals as JSON; or the template as SAM transforms it)

SAM's own translator (aws-sam-translator, what `sam deploy` runs) turns the template into plain
CloudFormation: each function gets its role, SAM policy templates (LambdaInvokePolicy, ...) become
statements. Then the intrinsic functions (Ref, Fn::Sub, Fn::GetAtt, Fn::Join, Fn::Split, Fn::If) are
resolved with the stack's parameters and the local physical names of its resources. The result is what the
emulator enforces.

Principals are roles. A function is identified by the access key of the credentials it is given
(access_key: Lambda gives each function its role's session); a state machine by its ARN (its executions run
as its role); the automation and AWS Backup by the role passed to them.
"""

import hashlib
import json
import os
import pathlib

import cfnlint.decode

ROOT = pathlib.Path(__file__).resolve().parent.parent
ACCOUNT_ID = "123456789012"
# The stack deployed: the suite's own by default; another (a second stack beside it on the same emulator,
# local/add_stack.py) by SNAPMGMT_STACK_NAME and SNAPMGMT_STACK_REGION, as `sam deploy --stack-name --region`.
DEFAULT_STACK_NAME = "snapmgmt"
STACK_NAME = os.environ.get("SNAPMGMT_STACK_NAME") or DEFAULT_STACK_NAME
REGION = os.environ.get("SNAPMGMT_STACK_REGION") or "us-east-1"
STACK_ID = f"{STACK_NAME}@{REGION}"
PARTITION = "aws"

# Each function's binary (the workspace's crate), which cargo lambda watch serves under that name.
BINARIES = {
    "TriggerFunction": "trigger",
    "CheckInProgressFunction": "check-in-progress",
    "BackupFsxFunction": "backup-fsx",
    "SnapshotEbsFunction": "snapshot-ebs",
    "CleanupFunction": "cleanup",
    "EfsBackupFunction": "efs-backup",
    "ReportFunction": "report",
    "VerifyFunction": "verify",
}
# Local physical names of the resources whose name CloudFormation would generate: the suite's stack's
# functions are named as their binaries; another stack's carry its name first, as CloudFormation's would.
PHYSICAL_NAMES = {
    **BINARIES,
    "EbsSnapshotDocument": "snapmgmt-local-ebs-snapshot",
    "AutomationRole": "snapmgmt-local-automation",
    "BackupRole": "snapmgmt-local-backup",
}
if STACK_NAME != DEFAULT_STACK_NAME:
    PHYSICAL_NAMES = {
        logical: f"{STACK_NAME}-{name}" if logical in BINARIES else name.replace(DEFAULT_STACK_NAME, STACK_NAME, 1)
        for logical, name in PHYSICAL_NAMES.items()
    }


def access_key(function: str, stack_id: str = STACK_ID) -> str:
    """The access key of the credentials Lambda gives a function of a stack (this one's unless named), its
    role's session: the emulator's IAM knows the function's role by it, as AWS knows a caller by them."""
    digest = hashlib.sha256(f"{stack_id}/{function}".encode()).hexdigest()[:16].upper()
    return f"ASIA{digest}"


# AWS managed policies the template attaches, as SAM's translator names them. Their statements are AWS's
# and are not evaluated here: AWSLambdaBasicExecutionRole writes the function's own logs, and CloudWatch
# Logs is not emulated.
MANAGED_POLICIES = {
    "AWSLambdaBasicExecutionRole": "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
}


def transformed_template() -> dict:
    """template.yaml as plain CloudFormation, as `sam deploy` would submit it after packaging."""
    template, errors = cfnlint.decode.decode(ROOT / "template.yaml")
    assert not errors, errors
    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        properties = resource.get("Properties", {})
        # `sam package` uploads the code and definitions and puts their S3 locations here.
        if "CodeUri" in properties:
            properties["CodeUri"] = "s3://packaged/function.zip"
        if "DefinitionUri" in properties:
            properties["DefinitionUri"] = "s3://packaged/definition.json"
    os.environ.setdefault("AWS_DEFAULT_REGION", REGION)
    from samtranslator.translator.transform import transform

    class ManagedPolicies:
        def load(self):
            return MANAGED_POLICIES

    parameters = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": STACK_NAME}
    return transform(template, parameters, ManagedPolicies())


class Resolver:
    """Resolves intrinsic functions against the stack's parameters and its resources' local names."""

    def __init__(self, template: dict):
        self.resources = template["Resources"]
        self.parameters = {name: p.get("Default", "") for name, p in template.get("Parameters", {}).items()}
        # The stack's parameters other than their defaults, as `sam deploy --parameter-overrides` gives them.
        self.parameters.update(json.loads(os.environ.get("SNAPMGMT_STACK_PARAMETERS") or "{}"))
        self.parameters.update(
            {
                "AWS::AccountId": ACCOUNT_ID,
                "AWS::Region": REGION,
                "AWS::StackName": STACK_NAME,
                "AWS::Partition": PARTITION,
                "AWS::URLSuffix": "amazonaws.com",
                "AWS::NoValue": None,
                "AWS::StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:stack/{STACK_NAME}/local",
            }
        )
        self.conditions = template.get("Conditions", {})

    def name(self, logical: str) -> str:
        if logical in PHYSICAL_NAMES:
            return PHYSICAL_NAMES[logical]
        properties = self.resources[logical].get("Properties", {})
        for key in ("BucketName", "StateMachineName", "BackupVaultName", "FunctionName", "RoleName", "LogGroupName"):
            if key in properties:
                return self.resolve(properties[key])
        return f"{STACK_NAME}-{logical}"

    def arn(self, logical: str) -> str:
        kind, name = self.resources[logical]["Type"], self.name(logical)
        return {
            "AWS::Lambda::Function": f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}",
            "AWS::IAM::Role": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}",
            "AWS::IAM::ManagedPolicy": f"arn:aws:iam::{ACCOUNT_ID}:policy/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{REGION}:{ACCOUNT_ID}:log-group:{name}:*",
            "AWS::Backup::BackupVault": f"arn:aws:backup:{REGION}:{ACCOUNT_ID}:backup-vault:{name}",
            "AWS::StepFunctions::StateMachine": f"arn:aws:states:{REGION}:{ACCOUNT_ID}:stateMachine:{name}",
            "AWS::SNS::Topic": f"arn:aws:sns:{REGION}:{ACCOUNT_ID}:{name}",
        }.get(kind, f"arn:aws:cloudformation:{REGION}:{ACCOUNT_ID}:{logical}")

    def ref(self, name: str):
        if name in self.parameters:
            return self.parameters[name]
        kind = self.resources[name]["Type"]
        if kind in ("AWS::StepFunctions::StateMachine", "AWS::SNS::Topic", "AWS::IAM::ManagedPolicy"):
            return self.arn(name)
        return self.name(name)

    def get_att(self, logical: str, attribute: str):
        if attribute in ("Arn", "BackupVaultArn"):
            return self.arn(logical)
        if attribute == "Name":
            return self.name(logical)
        raise ValueError(f"Fn::GetAtt {logical}.{attribute} is not resolved locally")

    def sub(self, text: str, variables: dict) -> str:
        import re

        def value(match):
            name = match.group(1)
            if name in variables:
                return str(variables[name])
            if "." in name:
                return str(self.get_att(*name.split(".", 1)))
            return str(self.ref(name))

        return re.sub(r"\$\{([A-Za-z0-9:._]+)\}", value, text)

    def condition(self, name: str) -> bool:
        return bool(self.resolve(self.conditions[name]))

    def resolve(self, value):
        if isinstance(value, list):
            return [v for v in (self.resolve(v) for v in value) if v is not None]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return self.ref(argument)
            if key == "Fn::GetAtt":
                logical, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(logical, attribute)
            if key == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                return self.sub(text, {k: self.resolve(v) for k, v in variables.items()})
            if key == "Fn::Split":
                separator, text = argument
                return self.resolve(text).split(separator)
            if key == "Fn::Join":
                separator, parts = argument
                return separator.join(str(p) for p in self.resolve(parts))
            if key == "Fn::If":
                name, yes, no = argument
                return self.resolve(yes if self.condition(name) else no)
            if key == "Fn::Equals":
                left, right = self.resolve(argument)
                return left == right
            if key == "Fn::Not":
                return not self.resolve(argument[0])
            if key == "Fn::And":
                return all(self.resolve(a) for a in argument)
            if key == "Fn::Or":
                return any(self.resolve(a) for a in argument)
            if key == "Condition":
                return self.condition(argument)
        resolved = {k: self.resolve(v) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not None}


# The template's policies a user attaches to a role of their own, and the role the local stack makes for it
# (deploy.py, with an instance profile of the same name): the instance role of the Windows targets.
INSTANCE_ROLES = {"VssInstancePolicy": f"{STACK_NAME}-local-windows-instance"}
EC2_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


# The template's policies for operators, and the roles the local stack gives them (a label, and the policies
# each has): the command line acts as one when given its access key (operator_key), as with an operator's own.
OPERATOR_ROLES = {
    "operator": ("OperatorReadOnlyPolicy", ["OperatorReadOnlyPolicy"]),
    "restorer": ("OperatorRestorer", ["OperatorReadOnlyPolicy", "OperatorRestorePolicy"]),
}


def operator_role_arn(name: str = "operator") -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{STACK_NAME}-local-{name}"


def operator_key(stack_id: str = STACK_ID, name: str = "operator") -> str:
    return access_key(name, stack_id)


def instance_role_arn(policy: str) -> str:
    return f"arn:aws:iam::{ACCOUNT_ID}:role/{INSTANCE_ROLES[policy]}"


def _statements(resolver: "Resolver", policies: list) -> list:
    """Each statement of the (name, document) policies, resolved and numbered within its policy."""
    statements = []
    for name, document in policies:
        document = resolver.resolve(document)
        listed = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
        for index, statement in enumerate(listed):
            statements.append({"policy": name, "index": index, "sid": statement.get("Sid", ""), "statement": statement})
    return statements


def principals() -> dict:
    """Every role of the stack with its resolved statements, and how the local stack knows who acts:
    {"stack": its identity, "roles": {arn: {"logicalId", "statements": [{"policy", "index", "sid",
    "statement"}], "managedPolicies"}}, "functions": {name: role arn}, "accessKeys": {a function's access
    key: role arn}, "stateMachines": {arn: role arn}}."""
    template = transformed_template()
    resolver = Resolver(template)
    roles, functions, state_machines = {}, {}, {}
    for logical, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            policies = [(p["PolicyName"], p["PolicyDocument"]) for p in properties.get("Policies", [])]
            roles[resolver.arn(logical)] = {
                "logicalId": logical,
                "statements": _statements(resolver, policies),
                "managedPolicies": resolver.resolve(properties.get("ManagedPolicyArns", [])),
                "trust": resolver.resolve(properties.get("AssumeRolePolicyDocument", {})),
            }
        elif resource["Type"] == "AWS::IAM::ManagedPolicy" and logical in INSTANCE_ROLES:
            roles[instance_role_arn(logical)] = {
                "logicalId": logical,
                "statements": _statements(resolver, [(logical, properties["PolicyDocument"])]),
                "managedPolicies": [],
                "trust": EC2_TRUST,
            }
        elif resource["Type"] == "AWS::Lambda::Function":
            functions[resolver.name(logical)] = resolver.resolve(properties["Role"])
        elif resource["Type"] == "AWS::StepFunctions::StateMachine":
            state_machines[resolver.arn(logical)] = resolver.resolve(properties["RoleArn"])
    access_keys = {access_key(name): role for name, role in functions.items()}
    for name, (label, policies) in OPERATOR_ROLES.items():
        documents = [(p, template["Resources"][p]["Properties"]["PolicyDocument"]) for p in policies]
        roles[operator_role_arn(name)] = {
            "logicalId": label,
            "statements": _statements(resolver, documents),
            "managedPolicies": [],
            "trust": {},
        }
        access_keys[operator_key(name=name)] = operator_role_arn(name)
    return {
        "stack": STACK_ID,
        "roles": roles,
        "functions": functions,
        "accessKeys": access_keys,
        "stateMachines": state_machines,
    }


if __name__ == "__main__":
    import sys

    print(json.dumps(transformed_template() if "--transformed" in sys.argv else principals(), indent=2))
