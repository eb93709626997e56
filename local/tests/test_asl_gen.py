"""The scheduled workflow is generated (local/asl_gen.py): the committed file is what the generator makes, and
the generator's input holds every kind to one shape."""

import json
import re
import subprocess
import sys

import asl_gen


def test_the_committed_workflow_is_what_the_generator_makes():
    check = subprocess.run([sys.executable, str(asl_gen.ROOT / "local" / "asl_gen.py"), "--check"], capture_output=True)
    assert check.returncode == 0, f"run `make workflow` and commit the file: {check.stderr.decode()}"
    assert json.loads(asl_gen.OUTPUT.read_text()) == asl_gen.definition()


def test_a_changed_input_changes_the_file():
    before = asl_gen.render()
    original = asl_gen.EC2.copy_comment
    try:
        asl_gen.EC2.copy_comment = "changed"
        assert asl_gen.render() != before
    finally:
        asl_gen.EC2.copy_comment = original
    assert asl_gen.render() == before


def test_every_kind_has_the_same_tail_under_its_own_prefix():
    def shape(kind):
        own = {kind.cleanup_state: "<cleanup>", kind.copy_state: "<copy>"}
        return [own.get(name) or re.sub(kind.prefix, "<kind>", name) for name in asl_gen.tail(kind)]

    shapes = {kind.label: shape(kind) for kind, _ in asl_gen.BACKUP_PHASES}
    assert shapes["fsx"] == shapes["ec2"] == shapes["efs"], shapes
    assert all("<kind>" in name or name.startswith("<") for name in shapes["fsx"]), shapes["fsx"]


def test_every_state_of_a_kind_names_its_kind_but_the_original_samples():
    for kind, phase in asl_gen.BACKUP_PHASES:
        for name in [*phase(kind), *asl_gen.tail(kind)]:
            named = kind.prefix in name or name in asl_gen.ORIGINAL_SAMPLE_NAMES
            assert named, f"{kind.label}: {name} neither names its kind nor is one of the original sample's"
    # The original sample's names are all still there.
    text = asl_gen.render()
    missing = [name for name in asl_gen.ORIGINAL_SAMPLE_NAMES if f'"{name}"' not in text]
    assert not missing, missing


def test_every_task_of_a_kind_catches_into_its_failure_and_every_lambda_task_retries_alike():
    for kind, phase in asl_gen.BACKUP_PHASES:
        states = {**phase(kind), **asl_gen.tail(kind)}
        tasks = [s for s in states.values() if s["Type"] == "Task"]
        assert tasks and all(s["Catch"][0]["Next"] == kind.failed for s in tasks), kind.label
        for state in tasks:
            assert state["Retry"][0] == asl_gen.RETRY_LAMBDA and state["Retry"][-1] == asl_gen.RETRY_TRANSIENT
