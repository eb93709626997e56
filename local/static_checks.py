#!/usr/bin/env python3
"""The template's static checks: checkov over template.yaml and over the template as SAM transforms it, and
parliament over every role's policy as CloudFormation resolves it. Every finding is fixed or skipped in
local/static-checks-skips.json, each skip with its reason; a skip that no longer matches a finding fails too,
so the list never outlives what it excuses.

Usage: static_checks.py   (runs in local/.checks; calls local/.venv for SAM's translator)
"""

import json
import pathlib
import subprocess
import sys
import tempfile

from parliament import analyze_policy_string

LOCAL = pathlib.Path(__file__).resolve().parent
ROOT = LOCAL.parent
SKIPS = json.loads((LOCAL / "static-checks-skips.json").read_text())


def emulator_python(*args: str) -> str:
    return subprocess.run(
        [str(LOCAL / ".venv" / "bin" / "python"), *args], check=True, capture_output=True, text=True, cwd=LOCAL
    ).stdout


def checkov(template: pathlib.Path) -> set:
    """(check id, resource) of every failed check."""
    run = subprocess.run(
        [str(LOCAL / ".checks" / "bin" / "checkov"), "-f", str(template), "--framework", "cloudformation"]
        + ["--quiet", "--compact", "-o", "json"],
        capture_output=True,
        text=True,
    )
    reports = json.loads(run.stdout or "[]")
    reports = reports if isinstance(reports, list) else [reports]
    return {
        (check["check_id"], check["resource"].split(".")[-1])
        for report in reports
        for check in report.get("results", {}).get("failed_checks", [])
    }


def parliament(principals: dict) -> set:
    """(role, issue, action) of every finding on a role's resolved policy."""
    findings = set()
    for role in principals["roles"].values():
        document = {"Version": "2012-10-17", "Statement": [entry["statement"] for entry in role["statements"]]}
        for finding in analyze_policy_string(json.dumps(document)).findings:
            details = finding.detail if isinstance(finding.detail, list) else [finding.detail]
            for detail in details:
                action = detail.get("action", "") if isinstance(detail, dict) else str(detail)
                findings.add((role["logicalId"], finding.issue, action))
    return findings


def main() -> int:
    found = {("checkov", check, resource) for check, resource in checkov(ROOT / "template.yaml")}
    with tempfile.NamedTemporaryFile("w", suffix=".json") as transformed:
        transformed.write(emulator_python("iam_template.py", "--transformed"))
        transformed.flush()
        found |= {("checkov", check, resource) for check, resource in checkov(pathlib.Path(transformed.name))}
    found |= {("parliament", *finding) for finding in parliament(json.loads(emulator_python("iam_template.py")))}

    failures = sorted(f for f in found if not skipped_finding(f))
    stale = [s for s in SKIPS["checkov"] if not any(f[0] == "checkov" and f[1] == s["id"] for f in found)]
    stale += [s for s in SKIPS["parliament"] if ("parliament", s["role"], s["issue"], s["action"]) not in found]
    for failure in failures:
        print("finding:", *failure)
    for skip in stale:
        print("stale skip (nothing matches it any more):", json.dumps(skip))
    print(f"static checks: {len(found)} findings, {len(failures)} neither fixed nor skipped, {len(stale)} stale skips")
    return 1 if failures or stale else 0


def skipped_finding(finding: tuple) -> bool:
    """Whether the skip list excuses this finding."""
    if finding[0] == "checkov":
        _, check, resource = finding
        return any(s["id"] == check and resource in s.get("resources", [resource]) for s in SKIPS["checkov"])
    _, role, issue, action = finding
    return any((s["role"], s["issue"], s["action"]) == (role, issue, action) for s in SKIPS["parliament"])


if __name__ == "__main__":
    sys.exit(main())
