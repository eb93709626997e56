"""The shipped state machines read as one contract: every Lambda Task retries the same way, every Task of a
target's child catches into that target's failure with the state it had, a target's poll state has one name,
and a dry run skips the waits one way. The scheduled workflow is generated from one Retry and Catch
(local/asl_gen.py, test_asl_gen.py); the EFS SOP is written by hand. These tests read both as shipped."""

import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
MACHINES = sorted((ROOT / "statemachine").glob("*.asl.json"))

# The Lambda service's own transient errors, then snapmgmt's (the functions' errorType names).
LAMBDA_TRANSIENT = {
    "ErrorEquals": [
        "Lambda.ServiceException",
        "Lambda.AWSLambdaException",
        "Lambda.SdkClientException",
        "Lambda.TooManyRequestsException",
        "Lambda.Unknown",
    ],
    "IntervalSeconds": 2,
    "MaxAttempts": 6,
    "BackoffRate": 2,
    "JitterStrategy": "FULL",
}
AWS_TRANSIENT = {
    "ErrorEquals": ["Throttled", "AwsUnavailable"],
    "IntervalSeconds": 5,
    "MaxAttempts": 2,
    "BackoffRate": 2,
    "JitterStrategy": "FULL",
}


def states(machine):
    """Every state of a definition with the name of the child (Map) or branch it is in."""

    def walk(scope, owner):
        for name, state in scope["States"].items():
            yield owner, name, state
            for branch in state.get("Branches", []):
                yield from walk(branch, owner)
            if "ItemProcessor" in state:
                yield from walk(state["ItemProcessor"], name)

    return list(walk(json.loads(machine.read_text()), None))


def lambda_tasks():
    for machine in MACHINES:
        for owner, name, state in states(machine):
            if state["Type"] == "Task" and state["Resource"] == "arn:aws:states:::lambda:invoke":
                yield machine.name, owner, name, state


def test_every_lambda_task_retries_the_same_transient_errors_the_same_way():
    tasks = list(lambda_tasks())
    assert len(tasks) >= 10
    for machine, _, name, state in tasks:
        retry = state.get("Retry", [])
        assert retry[0] == LAMBDA_TRANSIENT, f"{machine} {name}"
        assert retry[-1] == AWS_TRANSIENT, f"{machine} {name}"
        # In between, only the retries of this task's own errors (FSx's one backup at a time).
        for extra in retry[1:-1]:
            assert extra["ErrorEquals"] == ["BackupInProgress"], f"{machine} {name}: {extra}"


def test_every_task_of_a_target_catches_into_that_targets_failure_keeping_its_state():
    by_child = {}
    for machine, owner, name, state in lambda_tasks():
        if machine != "snapshot-mgmt.asl.json" or owner is None:
            continue
        (catch,) = state["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        # Into $.error, not over the state: the failure still lists the backups the target made.
        assert catch["ResultPath"] == "$.error", name
        by_child.setdefault(owner, set()).add(catch["Next"])
    assert by_child == {
        "ProcessFSxFileSystems": {"FsxTargetFailed"},
        "ProcessEc2Instances": {"Ec2TargetFailed"},
        "ProcessEfsFileSystems": {"EfsTargetFailed"},
        "ProcessOrphans": {"OrphanFailed"},
    }


def test_a_targets_poll_state_has_one_name_and_a_dry_run_skips_the_waits_one_way():
    machine = ROOT / "statemachine" / "snapshot-mgmt.asl.json"
    text = machine.read_text()
    for old in ("$.check", "$.newBackup", "$.status", "$.job"):
        assert old not in text, old
    polls = [s for _, _, s in states(machine) if s.get("ResultPath") == "$.poll" and s["Type"] == "Task"]
    assert len(polls) == 4, "FSx: in progress, new backup; EC2: snapshot run; EFS: job"
    assert all(s["Parameters"]["Payload"]["attempt.$"] == "$.poll.attempt" for s in polls)
    dry_run_choices = [
        s["Choices"]
        for _, _, s in states(machine)
        if s["Type"] == "Choice" and any(c.get("Variable") == "$.dryRun" for c in s["Choices"])
    ]
    assert len(dry_run_choices) == 3, "one per kind"
    assert all(len(c) == 1 and c[0]["BooleanEquals"] is True for c in dry_run_choices)
    # A run id reaches the functions as the execution's name, never as an ARN to cut.
    for _, _, state in states(machine):
        payload = state.get("Parameters", {}).get("Payload", {})
        if "runId.$" in payload:
            assert payload["runId.$"] in ("$.runId", "$$.Execution.Name"), payload
