#!/usr/bin/env python3
"""Draws the state machines of statemachine/ as Mermaid flowcharts, into docs/architecture.md.

`local/diagram.py` rewrites each diagram in docs/architecture.md between its markers
(<!-- diagram: NAME --> ... <!-- /diagram: NAME -->); `--check` changes nothing and exits 1 when a diagram
and its definition have drifted apart (a test runs it).
"""

import argparse
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "architecture.md"
STATE_MACHINES = {
    "snapshot-mgmt": "statemachine/snapshot-mgmt.asl.json",
    "efs-backup": "statemachine/efs-backup.asl.json",
    "verify": "statemachine/verify.asl.json",
}


def mermaid(definition: dict) -> str:
    lines = ["flowchart TD", "  Start([start]) --> " + node_id("", definition["StartAt"])]
    draw_states(definition["States"], "", lines)
    return "\n".join(lines)


def node_id(scope: str, name: str) -> str:
    return re.sub(r"\W", "_", f"{scope}{name}")


def shape(kind: str, label: str) -> str:
    return {
        "Choice": f"{{{label}}}",
        "Wait": f"[/{label}/]",
        "Succeed": f"([{label}])",
        "Fail": f"[[{label}]]",
        "Pass": f"({label})",
    }.get(kind, f"[{label}]")


def draw_states(states: dict, scope: str, lines: list) -> None:
    for name, state in states.items():
        me = node_id(scope, name)
        kind = state["Type"]
        if kind in ("Map", "Parallel"):
            lines.append(f'  subgraph {me}["{name} ({kind})"]')
            branches = state.get("Branches") or [state["ItemProcessor"]]
            for n, branch in enumerate(branches):
                inner = f"{me}_{n}_"
                lines.append(f'    {inner}start(("{kind} {n + 1}")) --> {node_id(inner, branch["StartAt"])}')
                draw_states(branch["States"], inner, lines)
            lines.append("  end")
        else:
            lines.append(f"  {me}{shape(kind, chr(34) + name + chr(34))}")
        for label, target in transitions(state):
            arrow = f'-->|"{label}"|' if label else "-->"
            lines.append(f"  {me} {arrow} {node_id(scope, target)}")


def transitions(state: dict):
    for choice in state.get("Choices", []):
        yield condition(choice), choice["Next"]
    if "Default" in state:
        yield "otherwise", state["Default"]
    for catch in state.get("Catch", []):
        yield "error", catch["Next"]
    if "Next" in state:
        yield "", state["Next"]


def condition(choice: dict) -> str:
    if "And" in choice:
        return " and ".join(condition(c) for c in choice["And"])
    variable = choice.get("Variable", "").removeprefix("$.")
    for key, value in choice.items():
        if key not in ("Variable", "Next"):
            op = re.sub(r"(Path)$", "", key)
            value = str(value).removeprefix("$.")
            return f"{variable} {op} {value}".replace('"', "'")
    return variable


def drawn(name: str) -> str:
    definition = json.loads((ROOT / STATE_MACHINES[name]).read_text())
    return f"<!-- diagram: {name} -->\n```mermaid\n{mermaid(definition)}\n```\n<!-- /diagram: {name} -->"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when the diagrams are stale")
    args = parser.parse_args()
    page = PAGE.read_text()
    updated = page
    for name in STATE_MACHINES:
        pattern = re.compile(rf"<!-- diagram: {name} -->.*?<!-- /diagram: {name} -->", re.DOTALL)
        if not pattern.search(updated):
            print(f"docs/architecture.md has no <!-- diagram: {name} --> markers", file=sys.stderr)
            return 1
        updated = pattern.sub(lambda _m, n=name: drawn(n), updated)
    if args.check:
        if updated != page:
            print("docs/architecture.md's diagrams differ from statemachine/: run local/diagram.py", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(updated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
