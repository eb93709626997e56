#!/usr/bin/env python3
"""Writes docs/configuration.md: one table of every parameter of template.yaml, with the setting (environment
variable) each function gets it as, its default, what it may be, and when it is checked, all read from the
template (the SAM-translated one, as a deploy has it); `--check` changes nothing and exits 1 when the file
and the template have drifted apart (a test runs it, and checks the settings code reads what the template sets).

Usage: config_doc.py [--check]
"""

import argparse
import pathlib
import sys

import iam_template

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "configuration.md"

HEADER = """# Configuration

Every parameter of `template.yaml`, generated from it by `local/config_doc.py` (`make workflow` rewrites this
file; a test fails when they differ). A parameter reaches the functions as the setting(s) named, in their
environment. **Deploy** is what CloudFormation checks before it makes anything (the parameter's type, range,
values or pattern, and the template's Rules): a refused deploy changes nothing. **Start** is what the functions
check when they start (what needs arithmetic, or reads more than one setting): a bad setting fails every
invocation with an error naming it, before any event is read or AWS is called.

| Parameter | Setting | Default | May be | Deploy checks | Description |
|---|---|---|---|---|---|
"""


def settings_of(template: dict) -> dict:
    """{parameter: {setting: [functions]}} from each function's environment in the translated template."""
    found = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        function = iam_template.PHYSICAL_NAMES.get(logical, logical)
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        for variable, value in variables.items():
            if isinstance(value, dict) and set(value) == {"Ref"}:
                found.setdefault(value["Ref"], {}).setdefault(variable, []).append(function)
    return found


def rules_naming(template: dict, parameter: str) -> list:
    """The Rules whose condition or assertions name the parameter."""
    text = f"'Ref': '{parameter}'"
    return [name for name, rule in template.get("Rules", {}).items() if text in str(rule)]


def may_be(parameter: dict) -> str:
    if "AllowedValues" in parameter:
        return ", ".join(f"`{v}`" for v in parameter["AllowedValues"])
    if parameter.get("Type") == "Number":
        low, high = parameter.get("MinValue"), parameter.get("MaxValue")
        return f"a number, {low} to {high}" if low is not None and high is not None else "a number"
    if "AllowedPattern" in parameter:
        return f"matching `{parameter['AllowedPattern']}`"
    return "any text"


def cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def document(template: dict) -> str:
    settings = settings_of(template)
    rows = []
    for name, parameter in template["Parameters"].items():
        given = settings.get(name, {})
        setting = "<br>".join(f"`{v}` ({', '.join(sorted(set(fs)))})" for v, fs in sorted(given.items()))
        setting = setting or "none: the template's own (schedule, alarms, logs, retention rules)"
        default = parameter.get("Default", "")
        default = f"`{default}`" if str(default) != "" else "empty"
        checks = ["a number"] if parameter.get("Type") == "Number" else []
        checks += [
            c for c in ("MinValue", "MaxValue", "MinLength", "AllowedValues", "AllowedPattern") if c in parameter
        ]
        deploy = ", ".join(checks + [f"rule {r}" for r in rules_naming(template, name)]) or "-"
        rows.append(
            f"| `{name}` | {setting} | {default} | {cell(may_be(parameter))} | {deploy} "
            f"| {cell(parameter.get('Description', ''))} |"
        )
    return HEADER + "\n".join(rows) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when docs/configuration.md has drifted")
    args = parser.parse_args()
    wanted = document(iam_template.transformed_template())
    if args.check:
        if not DOC.exists() or DOC.read_text() != wanted:
            print("docs/configuration.md differs from template.yaml: run `make workflow`", file=sys.stderr)
            sys.exit(1)
        return
    DOC.write_text(wanted)


if __name__ == "__main__":
    main()
