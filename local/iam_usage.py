#!/usr/bin/env python3
"""What the local stack's IAM enforcement saw: the calls it denied, and the permissions template.yaml grants
that no call used. The tests read both at the end of the suite; run it by hand after any local run.

A permission that no local call can use (CloudWatch Logs is not emulated, the SSM document's command steps
need an instance agent) is justified in template.yaml by a comment just above its statement's Sid:
`# Not exercised locally: <why>`.

Usage: iam_usage.py   (after `. local/.state/env`)
"""

import fnmatch
import json
import os
import pathlib
import re

import deploy
import stack

ROOT = pathlib.Path(__file__).resolve().parent.parent
JUSTIFIED = re.compile(r"#\s*Not exercised locally(?: \([^)]*\))?:\s*(.+)\n(?:\s*#.*\n)*\s*-?\s*Sid:\s*(\w+)")


def decisions() -> list:
    """This stack's decisions, and those saved by the run's other stacks (SNAPMGMT_IAM_DECISIONS_DIR)."""
    return live_decisions() + [d for saved in saved_stacks() for d in saved["decisions"]]


def live_decisions() -> list:
    return stack.control_get("/moto-api/snapmgmt/iam/decisions")["decisions"]


def saved_provoked() -> set:
    """The (action, resource) denials that the run's other stacks' tests made to be refused."""
    return {tuple(denial) for saved in saved_stacks() for denial in saved["provoked"]}


def saved_stacks() -> list:
    folder = os.environ.get("SNAPMGMT_IAM_DECISIONS_DIR")
    if not folder:
        return []
    return [json.loads(file.read_text()) for file in sorted(pathlib.Path(folder).glob("*.json"))]


def save_decisions(name: str, provoked: set) -> None:
    """Saves this stack's decisions, with the denials its tests provoked, as NAME.json in
    SNAPMGMT_IAM_DECISIONS_DIR, for the run's IAM check."""
    folder = pathlib.Path(os.environ["SNAPMGMT_IAM_DECISIONS_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    saved = {"decisions": live_decisions(), "provoked": sorted(provoked)}
    (folder / f"{name}.json").write_text(json.dumps(saved))


def denied(made: list) -> list:
    """Every denied call: principal, action, resource."""
    return sorted({(d["role"].rsplit("/", 1)[-1], d["action"], d["resource"]) for d in made if not d["allowed"]})


def justified() -> dict:
    """Sid -> why its permissions are not exercised locally, from the template's comments."""
    return {sid: why.strip() for why, sid in JUSTIFIED.findall((ROOT / "template.yaml").read_text())}


def unused(made: list) -> list:
    """(role, Sid or policy#index, action) of every granted action that no allowed call matched, and that the
    template does not justify."""
    # By statement: a managed policy given to two roles (the operators') is used when either used it.
    used = {}
    for d in made:
        if d["allowed"]:
            for policy, index in d["matched"]:
                used.setdefault((policy, index), set()).add(d["action"])
    reasons = justified()
    missing = []
    for principal in deploy.principals()["roles"].values():
        for entry in principal["statements"]:
            statement = entry["statement"]
            if statement.get("Effect") != "Allow" or entry["sid"] in reasons:
                continue
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            seen = used.get((entry["policy"], entry["index"]), set())
            for action in actions:
                if not any(fnmatch.fnmatch(call, action) for call in seen):
                    name = entry["sid"] or f"{entry['policy']}#{entry['index']}"
                    missing.append((principal["logicalId"], name, action))
    return sorted(set(missing))


def main() -> None:
    made = decisions()
    print(json.dumps({"decisions": len(made), "denied": denied(made), "unused": unused(made)}, indent=2))


if __name__ == "__main__":
    main()
