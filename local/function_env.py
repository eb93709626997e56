"""Each function's environment as a deploy gives it: template.yaml translated by SAM, resolved with the stack's
parameters (iam_template.py's resolver, the same that gives the roles their policies).

Usage:
  function_env.py --parameters 'RetentionDays=7 CopyRegion=us-west-2'   the parameters as JSON (start.sh), refused
                  as CloudFormation refuses them (each parameter's constraints, the template's Rules)
  function_env.py --write DIR     DIR/NAME.env for each function: its variables, one NAME=VALUE a line

The parameters are written as `sam deploy --parameter-overrides` takes them (Key=Value, space-separated, a
value with spaces in quotes); --write reads them, as JSON, from SNAPMGMT_STACK_PARAMETERS. The functions'
names are their binaries' (local/watch-cargo/cargo loads NAME.env before it starts one).
"""

import argparse
import json
import os
import pathlib
import re
import shlex

import iam_template


def parse_overrides(text: str) -> dict:
    """`Key=Value Key2="a b"` as a dict; a word without `=` is refused, naming it."""
    parameters = {}
    for word in shlex.split(text or ""):
        name, equals, value = word.partition("=")
        if not equals or not name:
            raise SystemExit(f"function_env: {word!r} is not Key=Value (as sam deploy --parameter-overrides)")
        parameters[name] = value
    return parameters


def check_names(parameters: dict, template: dict) -> None:
    unknown = sorted(set(parameters) - set(template.get("Parameters", {})))
    if unknown:
        raise SystemExit(f"function_env: template.yaml has no parameter {', '.join(unknown)}")


def check(parameters: dict, template: dict) -> None:
    """Stops, naming the problem, where `sam deploy` would fail for these parameters."""
    check_names(parameters, template)
    problem = refusal(parameters, template)
    if problem:
        raise SystemExit(f"function_env: CloudFormation would refuse this stack: {problem}")


def refusal(parameters: dict, template: dict):
    """Why CloudFormation would refuse a stack with these parameters before making anything, or None: each
    value against its parameter's constraints, then the template's Rules, as CloudFormation checks them."""
    declared = template.get("Parameters", {})
    for name, value in parameters.items():
        problem = constraint_problem(declared[name], str(value))
        if problem:
            return f"parameter {name}={value!r}: {problem}"
    resolver = iam_template.Resolver(template)
    # CloudFormation gives every parameter to the Rules as a string, a Number's default too.
    resolver.parameters.update({n: str(p.get("Default", "")) for n, p in declared.items()})
    resolver.parameters.update({n: str(v) for n, v in parameters.items()})
    for rule_name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not resolver.resolve(rule["RuleCondition"]):
            continue
        for assertion in rule["Assertions"]:
            if not resolver.resolve(assertion["Assert"]):
                return f"rule {rule_name}: {assertion.get('AssertDescription', 'an assertion failed')}"
    return None


def constraint_problem(parameter: dict, value: str):
    """What CloudFormation says is wrong with one parameter's value, or None."""
    if parameter.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            return "must be a number"
        if "MinValue" in parameter and number < float(parameter["MinValue"]):
            return f"must be at least {parameter['MinValue']}"
        if "MaxValue" in parameter and number > float(parameter["MaxValue"]):
            return f"must be at most {parameter['MaxValue']}"
    allowed = parameter.get("AllowedValues")
    if allowed is not None and value not in [str(a) for a in allowed]:
        return f"must be one of {', '.join(str(a) for a in allowed)}"
    pattern = parameter.get("AllowedPattern")
    if pattern is not None and not re.fullmatch(pattern, value):
        return f"must match {pattern}"
    if "MaxLength" in parameter and len(value) > int(parameter["MaxLength"]):
        return f"must be at most {parameter['MaxLength']} characters"
    if "MinLength" in parameter and len(value) < int(parameter["MinLength"]):
        return f"must be at least {parameter['MinLength']} characters"
    return None


def environments() -> dict:
    """{binary: {variable: value}} for the stack's parameters (SNAPMGMT_STACK_PARAMETERS), values as Lambda
    gives them: strings. Lambda adds its own: the Region, and the credentials of the function's role, whose
    access key tells the emulator's IAM which function calls (iam_template.access_key)."""
    template = iam_template.transformed_template()
    check(json.loads(os.environ.get("SNAPMGMT_STACK_PARAMETERS") or "{}"), template)
    resolver = iam_template.Resolver(template)
    found = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            variables = resolver.resolve(resource["Properties"].get("Environment", {}).get("Variables", {}))
            found[iam_template.BINARIES[logical]] = {name: str(value) for name, value in variables.items()} | {
                "AWS_REGION": iam_template.REGION,
                "AWS_ACCESS_KEY_ID": iam_template.access_key(resolver.name(logical)),
                "AWS_SECRET_ACCESS_KEY": "local",
            }
    return found


def write(directory: pathlib.Path) -> None:
    """NAME.env per function, and `names`: every variable any function has, which the watch's cargo unsets
    before it loads a function's own (none leaks in from the shell that started the stack)."""
    directory.mkdir(parents=True, exist_ok=True)
    found = environments()
    every = sorted({variable for variables in found.values() for variable in variables})
    (directory / "names").write_text("".join(f"{name}\n" for name in every))
    for name, variables in found.items():
        for variable, value in variables.items():
            if "\n" in value:
                raise SystemExit(f"function_env: {name}'s {variable} holds a line break")
        (directory / f"{name}.env").write_text("".join(f"{k}={v}\n" for k, v in sorted(variables.items())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parameters", help="the stack's parameters, Key=Value ...: printed as JSON")
    parser.add_argument("--write", type=pathlib.Path, help="write each function's NAME.env here")
    args = parser.parse_args()
    if args.parameters is not None:
        parameters = parse_overrides(args.parameters)
        check(parameters, iam_template.transformed_template())
        print(json.dumps(parameters))
    if args.write:
        write(args.write)


if __name__ == "__main__":
    main()
