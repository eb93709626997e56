"""Each function's environment as a deploy gives it: template.yaml translated by SAM, resolved with the stack's
parameters (iam_template.py's resolver, the same that gives the roles their policies).

Usage:
  function_env.py --parameters 'RetentionDays=7 CopyRegion=us-west-2'   the parameters as JSON (start.sh)
  function_env.py --write DIR     DIR/NAME.env for each function: its variables, one NAME=VALUE a line

The parameters are written as `sam deploy --parameter-overrides` takes them (Key=Value, space-separated, a
value with spaces in quotes); --write reads them, as JSON, from SNAPMGMT_STACK_PARAMETERS. The functions'
names are their binaries' (local/watch-cargo/cargo loads NAME.env before it starts one).
"""

import argparse
import json
import pathlib
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


def environments() -> dict:
    """{function: {variable: value}} for the stack's parameters (SNAPMGMT_STACK_PARAMETERS), values as Lambda
    gives them: strings."""
    template = iam_template.transformed_template()
    resolver = iam_template.Resolver(template)
    found = {}
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Lambda::Function":
            variables = resolver.resolve(resource["Properties"].get("Environment", {}).get("Variables", {}))
            found[resolver.name(logical)] = {name: str(value) for name, value in variables.items()}
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
        check_names(parameters, iam_template.transformed_template())
        print(json.dumps(parameters))
    if args.write:
        write(args.write)


if __name__ == "__main__":
    main()
