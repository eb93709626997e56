#!/usr/bin/env python3
"""Deploys another snapmgmt stack beside the running local stack, on the same emulator, as a second
`sam deploy --stack-name NAME --region REGION` would: its own functions (named NAME-trigger, ..., served by a
`cargo lambda watch` of their own with the environments the template gives them for its parameters), its own
roles (each function known by its own credentials, every role enforced), state machines, bucket, vault and
document, in its own Region.

Usage (after `. local/.state/env`):
  add_stack.py NAME REGION ['Key=Value ...']   deploys it; prints its Lambda endpoint (invoke NAME's trigger
                                               there as `trigger`); local/stop.sh stops it with the rest
"""

import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import urllib.request

LOCAL = pathlib.Path(__file__).resolve().parent
ROOT = LOCAL.parent
PYTHON = LOCAL / ".venv" / "bin" / "python"


class Stack:
    """Another stack on the running local stack's emulator: `start()` its functions, then `deploy()` it (again
    after each emulator reset)."""

    def __init__(self, name: str, region: str, parameters: dict, state: pathlib.Path):
        self.name, self.region, self.parameters = name, region, dict(parameters)
        self.state = state
        self.lambda_endpoint = None
        self.process = None

    @property
    def stack_id(self) -> str:
        return f"{self.name}@{self.region}"

    def env(self) -> dict:
        """The environment deploy.py and function_env.py are given for this stack."""
        return dict(
            os.environ,
            SNAPMGMT_STACK_NAME=self.name,
            SNAPMGMT_STACK_REGION=self.region,
            SNAPMGMT_STACK_PARAMETERS=json.dumps(self.parameters),
        )

    def start(self) -> "Stack":
        functions = self.state / f"stack-{self.name}"
        write = [str(PYTHON), str(LOCAL / "function_env.py"), "--write", str(functions)]
        subprocess.run(write, env=self.env(), check=True)
        port = free_port()
        proxy = os.environ["SNAPMGMT_FAULT_PROXY"]
        watch_env = dict(
            os.environ,
            SNAPMGMT_REAL_CARGO=cargo(),
            SNAPMGMT_TARGET_DIR=os.environ.get("CARGO_TARGET_DIR") or str(ROOT / "target"),
            SNAPMGMT_FUNCTION_ENV_DIR=str(functions),
            PATH=f"{LOCAL / 'watch-cargo'}:{os.environ['PATH']}",
        )
        # A function's Lambda calls go to the emulator, as they would to Lambda: not to the first stack's watch.
        watch_env.pop("AWS_ENDPOINT_URL_LAMBDA", None)
        log = open(self.state / f"stack-{self.name}.log", "ab")
        self.process = subprocess.Popen(
            [
                str(LOCAL / ".tools" / "bin" / "cargo-lambda"),
                "lambda",
                "watch",
                "--quiet",
                "--ignore-changes",
                "-A",
                "127.0.0.1",
                "-P",
                str(port),
                "--env-var",
                f"AWS_ENDPOINT_URL={proxy},AWS_REGION={self.region},AWS_ACCESS_KEY_ID=local,AWS_SECRET_ACCESS_KEY=local",
                "--env-var",
                "AWS_EC2_METADATA_DISABLED=true,AWS_LAMBDA_LOG_FORMAT=Text",
            ],
            env=watch_env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        (self.state / f"stack-{self.name}.pid").write_text(str(self.process.pid))
        wait_for_port(port, 30)
        self.lambda_endpoint = f"http://127.0.0.1:{port}"
        return self

    def deploy(self) -> dict:
        """Registers its functions with the emulator and deploys the rest; its state machines' ARNs."""
        import iam_template

        binaries = iam_template.BINARIES
        functions = {f"{self.name}-{binary}": binary for binary in binaries.values()}
        body = {"endpoint": self.lambda_endpoint, "region": self.region, "functions": functions}
        request = urllib.request.Request(
            os.environ["AWS_ENDPOINT_URL"] + "/moto-api/snapmgmt/lambda/functions",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=30).read()
        done = subprocess.run(
            [str(PYTHON), str(LOCAL / "deploy.py"), os.environ["AWS_ENDPOINT_URL"]],
            env=self.env(),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError(f"deploying {self.stack_id} failed: {done.stderr}")
        return json.loads(done.stdout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=30)
        (self.state / f"stack-{self.name}.pid").unlink(missing_ok=True)


def cargo() -> str:
    for folder in os.environ["PATH"].split(os.pathsep):
        candidate = pathlib.Path(folder) / "cargo"
        if candidate.is_file() and os.access(candidate, os.X_OK) and "watch-cargo" not in folder:
            return str(candidate)
    raise SystemExit("add_stack: cargo is not on PATH")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"cargo lambda watch did not listen on {port} within {seconds} s")


def main() -> None:
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    sys.path.insert(0, str(LOCAL))
    import function_env

    name, region = sys.argv[1], sys.argv[2]
    parameters = function_env.parse_overrides(sys.argv[3] if len(sys.argv) == 4 else "")
    state = pathlib.Path(os.environ.get("SNAPMGMT_STATE_DIR") or LOCAL / ".state")
    added = Stack(name, region, parameters, state).start()
    added.deploy()
    print(added.lambda_endpoint)


if __name__ == "__main__":
    main()
