"""One set of settings, as a deploy has them: the local stack's functions get exactly the environment the
SAM-translated template gives each for the stack's parameters (local/function_env.py), through the cargo that
`cargo lambda watch` starts them with (local/watch-cargo/cargo), and nothing of the shell that started it."""

import json
import os
import pathlib
import subprocess
import sys

import iam_template
import pytest

LOCAL = pathlib.Path(__file__).resolve().parent.parent
PYTHON = sys.executable
# Values with commas, spaces and `=`: what broke the old environment file (cargo lambda watch's ParseError).
PARAMETERS = "RetentionDays=30 RetentionTiers='daily=10 weekly=6' CopyRetention=days=2 CopyRegion=us-west-2 MinKeep=3"


def function_env(*args: str, parameters_json: str = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("SNAPMGMT_STACK_PARAMETERS", None)
    if parameters_json is not None:
        env["SNAPMGMT_STACK_PARAMETERS"] = parameters_json
    return subprocess.run([PYTHON, str(LOCAL / "function_env.py"), *args], env=env, capture_output=True, text=True)


def template_variables() -> dict:
    """Each function's variable names, as the translated template lists them (unresolved)."""
    template = iam_template.transformed_template()
    return {
        iam_template.PHYSICAL_NAMES[logical]: set(resource["Properties"].get("Environment", {}).get("Variables", {}))
        for logical, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    parameters = function_env("--parameters", PARAMETERS)
    assert parameters.returncode == 0, parameters.stderr
    assert json.loads(parameters.stdout) == {
        "RetentionDays": "30",
        "RetentionTiers": "daily=10 weekly=6",
        "CopyRetention": "days=2",
        "CopyRegion": "us-west-2",
        "MinKeep": "3",
    }
    directory = tmp_path_factory.mktemp("functions")
    done = function_env("--write", str(directory), parameters_json=parameters.stdout)
    assert done.returncode == 0, done.stderr
    return directory


def environment_of(function: str, directory: pathlib.Path) -> dict:
    """The environment the watch's cargo starts `function` with: a stand-in binary prints it."""
    binary = directory / "debug" / function
    binary.parent.mkdir(exist_ok=True)
    binary.write_text("#!/bin/sh\nexec env -0\n")
    binary.chmod(0o755)
    env = dict(
        os.environ,
        SNAPMGMT_FUNCTION_ENV_DIR=str(directory),
        SNAPMGMT_TARGET_DIR=str(directory),
        SNAPMGMT_REAL_CARGO="false",
        # Left in the shell that started the stack: must not reach a function.
        RETENTION_DAYS="999",
        INVENTORY_BUCKET="someone-elses",
    )
    done = subprocess.run(
        [str(LOCAL / "watch-cargo" / "cargo"), "run", "--quiet", "--bin", function], env=env, capture_output=True
    )
    assert done.returncode == 0, done.stderr
    return dict(entry.split("=", 1) for entry in done.stdout.decode().split("\0") if "=" in entry)


def test_every_function_gets_exactly_its_template_environment(written):
    every = set().union(*template_variables().values())
    for function, names in template_variables().items():
        got = environment_of(function, written)
        assert {name for name in got if name in every} == names, function
        assert got["RETENTION_DAYS"] == "30" and got["MIN_KEEP"] == "3"
        assert got["RETENTION_TIERS"] == "daily=10 weekly=6"
        assert got["COPY_RETENTION"] == "days=2" and got["COPY_REGION"] == "us-west-2"
        assert got["COPY_TAGS"] == "Name,CostCenter,Project,Environment,Owner", "a default with commas, whole"
    trigger = environment_of("trigger", written)
    assert trigger["INVENTORY_BUCKET"] == "snapmgmt-123456789012-us-east-1"
    assert trigger["STATE_MACHINE_ARN"] == "arn:aws:states:us-east-1:123456789012:stateMachine:snapmgmt-snapshot-mgmt"
    assert "INVENTORY_BUCKET" not in environment_of("cleanup", written), "the template gives cleanup none"


def test_a_parameter_that_is_not_key_value_or_not_the_templates_is_named():
    done = function_env("--parameters", "RetentionDays=7 daily")
    assert done.returncode != 0 and "'daily' is not Key=Value" in done.stderr
    done = function_env("--parameters", "RetentionDayz=7")
    assert done.returncode != 0 and "no parameter RetentionDayz" in done.stderr


@pytest.mark.parametrize(
    "parameters, says",
    [
        ("CopyRegion=us-east-1", "rule CopyRegionIsAnotherRegion"),
        ("CopyBackupVaultName=vault", "rule CopySettingsNeedCopyRegion: CopyBackupVaultName"),
        ("CopyRetention=days=3", "rule CopySettingsNeedCopyRegion: CopyRetention"),
        ("EfsVaultLockDays=30", "rule VaultLockNeedsTheBackstop"),
        ("RetentionDays=0", "parameter RetentionDays='0': must be at least"),
        ("MinKeep=many", "must be a number"),
        ("DeleteOrphans=yes", "must be one of true, false"),
        ("CopyRegion=us_west_2", "must match"),
    ],
)
def test_a_stack_cloudformation_refuses_is_refused_here_naming_why(parameters, says):
    refused = function_env("--parameters", parameters)
    assert refused.returncode != 0 and says in refused.stderr, refused.stderr
    # The same parameters given as JSON (as the suite's stacks give them) are refused as well.
    as_json = json.dumps(dict(word.split("=", 1) for word in parameters.split()))
    refused = function_env("--write", "/nonexistent", parameters_json=as_json)
    assert refused.returncode != 0 and says in refused.stderr, refused.stderr


def test_the_rules_pass_a_stack_that_copies_and_locks_as_documented():
    good = "CopyRegion=us-west-2 CopyBackupVaultName=vault EfsVaultLockDays=30 EfsLifecycleBackstopDays=400"
    assert function_env("--parameters", good).returncode == 0
