"""The end-to-end tests' stack: one local stack (emulator + Lambda functions) for the session, reset to
empty before each test, with the state machines of statemachine/ deployed afresh.

Under pytest-xdist (`make e2e` runs `-n 2`) each worker has a stack of its own, in its own state directory
(local/.state/gw0, ...) on its own ports. With SNAPMGMT_IAM_DECISIONS_DIR set, a worker's IAM decisions are
saved there when its session ends, so that test_zz_iam.py, run after the workers, reads every stack's."""

import collections
import json
import os
import pathlib
import subprocess
import sys

import pytest

LOCAL = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(LOCAL))

import deploy  # noqa: E402
import iam_usage  # noqa: E402
import stack  # noqa: E402

RETENTION_DAYS = 7
# The suite's stack adopts the original sample's backups (deployed so, its roles too): the one test with such
# backups sees them adopted; no other test has any. And it copies each EBS set to a second Region.
COPY_REGION = "us-west-2"
# The vault in the copy Region that EFS recovery points are copied into (deploy.py makes it there).
COPY_BACKUP_VAULT = "snapmgmt-copies"
# The storage virtual machine in the copy Region that ONTAP volumes' copies are restore-tested into.
COPY_SVM = "svm-0123456789abcdef1"
STACK_PARAMETERS = {
    "RetentionDays": str(RETENTION_DAYS),
    "MinKeep": "1",
    "AdoptOriginalSampleBackups": "true",
    "CopyRegion": COPY_REGION,
    "CopyBackupVaultName": COPY_BACKUP_VAULT,
    # No pace of the cleanup's own (as for an account whose EC2 limits were raised): the suite's runs delete
    # up to 150 sets in one invocation, which the default share (2 deletes at once, then one every 20 s) would
    # stretch past the test's time. The pace is tested in crates/core (pace.rs) and measured by `make bench`;
    # EC2's buckets themselves are on in test_scale.py and test_throttle.py.
    "Ec2ApiShare": "0",
    # Verify runs restore-test their targets too (test_verify.py), so that the verify role's volume grants are
    # exercised, IAM enforced.
    "VerifyRestore": "true",
    # And every FSx kind: its restore grants exercised too; a restore looked at every second.
    "VerifyFsxRestore": "WINDOWS,LUSTRE,OPENZFS,ONTAP",
    "VerifyRestorePollSeconds": "1",
    # And the copies in the copy Region: FSx ones restored into these subnets there, ONTAP volumes' into this
    # SVM (deploy.py makes it there, as an operator's existing one).
    "VerifyCopySubnetIds": "subnet-0123456789abcdef1",
    "VerifyCopySecurityGroupIds": "sg-0123456789abcdef1",
    "VerifyCopySvmId": COPY_SVM,
    # And a validation hook, an operator's function (the emulator scripts its answers: deploy.py).
    "VerifyValidationFunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:restore-validation",
}
# The calls tests make to be refused, (action, resource): every other denial fails the suite (test_zz_iam.py).
PROVOKED_DENIALS = set()


@pytest.fixture(scope="session")
def local_stack():
    # The stack's parameters, as a deploy takes them: the functions' settings and the roles' policies follow.
    env = dict(os.environ, SNAPMGMT_STACK_PARAMETERS=json.dumps(STACK_PARAMETERS))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    state = LOCAL / ".state" / worker if worker else LOCAL / ".state"
    env["SNAPMGMT_STATE_DIR"] = str(state)
    subprocess.run([str(LOCAL / "start.sh")], check=True, env=env)
    settings = {}
    for line in (state / "env").read_text().splitlines():
        for assignment in line.removeprefix("export ").split():
            name, _, value = assignment.partition("=")
            if name.startswith(("AWS_", "SNAPMGMT_")):
                settings[name] = value
    # deploy.deploy() (each test's) resolves the roles and makes the copy vault with the same parameters.
    settings["SNAPMGMT_STACK_PARAMETERS"] = json.dumps(STACK_PARAMETERS)
    saved = dict(os.environ)
    os.environ.update(settings)
    yield settings
    if worker and os.environ.get("SNAPMGMT_IAM_DECISIONS_DIR"):
        iam_usage.save_decisions(worker, PROVOKED_DENIALS)
    os.environ.clear()
    os.environ.update(saved)
    subprocess.run([str(LOCAL / "stop.sh")], check=False, env=env)


@pytest.fixture
def aws(local_stack):
    """An empty emulator with the state machines deployed, and no faults; yields the FSx client."""
    stack.set_faults([])
    stack.control("/moto-api/reset", {})
    deploy.deploy()
    return stack.client("fsx")


@pytest.fixture(scope="module")
def emulator_alone():
    """The emulator alone, without the functions, for a module whose tests make their own resources; its URL."""
    process = subprocess.Popen(
        [sys.executable, str(LOCAL / "emulator.py"), "--exit-with-stdin"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    url = process.stdout.readline().strip()
    yield url
    process.stdin.close()
    process.wait(timeout=10)


# Seconds spent in each test file (setup, call and teardown of its tests), printed at the end of the run and
# recorded with the phases of `make test` (local/phase.sh).
FILE_SECONDS = collections.defaultdict(float)


def pytest_runtest_logreport(report):
    FILE_SECONDS[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not FILE_SECONDS or os.environ.get("PYTEST_XDIST_WORKER"):
        return  # xdist's controller gets every worker's reports, and prints and records them once
    terminalreporter.section("seconds per test file")
    rows = sorted(FILE_SECONDS.items(), key=lambda row: -row[1])
    for path, seconds in rows:
        terminalreporter.write_line(f"{seconds:8.1f}  {path}")
    timings = LOCAL / ".timings"
    timings.mkdir(exist_ok=True)
    with open(timings / "phases.tsv", "a") as record:
        for path, seconds in rows:
            record.write(f"e2e: {pathlib.Path(path).name}\t{seconds:.0f}\n")
