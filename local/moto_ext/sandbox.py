"""A Linux instance for real: the shell steps of the snapshot document run as root in a sandbox of its own.

A sandbox is a mount and PID namespace (`unshare`) whose root is the instance's own root image, entered with
`pivot_root`, the host's root then detached, so that nothing of the machine's own file systems is mounted inside
(`findmnt` lists, and `fsfreeze` can reach, only the instance's). Each attached EBS volume is a loop-mounted file
system image (ext4 or xfs) at the place the instance's layout gives it, bind mounts included. The namespace's
first process stands for the instance; each command runs in it through `nsenter`, as the SSM agent runs
AWS-RunShellScript: bash, the commands joined by lines, its output and exit code read back. A background process a
command starts (the auto-thaw timer) lives on in the instance, as on AWS.

A frozen file system left behind stops the machine's writes to it for good, and its umount blocks: `thaw_all`
thaws every file system of a sandbox before it is torn down, and every teardown calls it first.
"""

import atexit
import os
import pathlib
import shutil
import signal
import subprocess
import tempfile
import threading
import time

# What the instance's root image holds: a shell and the tools the document's steps and the tests use, with the
# shared libraries they load (copied from this machine, so that no download is needed).
TOOLS = (
    "bash sh cat echo grep sed awk sort uniq head tail tr cut wc date sleep sync timeout setsid nohup mkdir rm "
    "touch ls stat readlink dd findmnt fsfreeze mountpoint mount umount env true false id kill ps"
).split()
ROOT_IMAGE_MB = 96
VOLUME_MB = {"ext4": 32, "xfs": 320}  # mkfs.xfs refuses file systems under 300 MB
AGENT_DIRS = ("/var/lib/amazon/ssm", "/var/log/amazon/ssm")

_lock = threading.Lock()
_sandboxes: dict = {}
_state_dir = pathlib.Path(os.environ.get("SNAPMGMT_SANDBOX_DIR", tempfile.gettempdir())) / "snapmgmt-sandboxes"


class SandboxError(Exception):
    pass


def shell_script(parameters: dict, default_timeout: float = 3600) -> tuple:
    """AWS-RunShellScript's parameters as the agent reads them: (the commands, one per line; the
    executionTimeout in seconds). Each value may come as a string or, as SendCommand sends it, a list."""

    def as_list(value):
        return value if isinstance(value, list) else [value]

    commands = "\n".join(as_list(parameters.get("commands", [])))
    timeout = parameters.get("executionTimeout")
    return commands, float(as_list(timeout)[0]) if timeout else default_timeout


def _run(args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=60)


def _copy_with_libraries(binary: str, root: pathlib.Path) -> None:
    path = shutil.which(binary)
    if path is None:
        raise SandboxError(f"the sandbox needs {binary}, which this machine lacks")
    files = {os.path.realpath(path): path}
    # ldd of a static binary fails and names nothing: it needs no library.
    for line in _run(["ldd", path], check=False).stdout.splitlines():
        parts = line.split()
        library = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
        if library.startswith("/"):
            files[os.path.realpath(library)] = library
    for real, named in files.items():
        for target in {named, real}:
            destination = root / target.lstrip("/")
            destination.parent.mkdir(parents=True, exist_ok=True)
            if not destination.exists():
                shutil.copy2(real, destination)


def _root_template() -> pathlib.Path:
    """The root file system's contents, built once per emulator: tools, /bin/sh, the agent's directories."""
    template = _state_dir / "root-template"
    if (template / ".complete").exists():
        return template
    shutil.rmtree(template, ignore_errors=True)
    template.mkdir(parents=True)
    # The machine's merged /usr (/bin -> usr/bin, ...), the same inside, so that /bin/bash is found.
    for top in ("bin", "sbin", "lib", "lib32", "lib64"):
        if os.path.islink(f"/{top}"):
            target = os.readlink(f"/{top}")
            (template / target.lstrip("/")).mkdir(parents=True, exist_ok=True)
            os.symlink(target, template / top)
    for binary in TOOLS:
        _copy_with_libraries(binary, template)
    for directory in ("proc", "dev", "run", "tmp", "mnt", "oldroot", "etc", *[d.lstrip("/") for d in AGENT_DIRS]):
        (template / directory).mkdir(parents=True, exist_ok=True)
    (template / "etc" / "os-release").write_text('NAME="snapmgmt sandbox"\nID=linux\n')
    (template / ".complete").write_text("")
    return template


def _image(path: pathlib.Path, fstype: str, contents: pathlib.Path | None = None) -> None:
    size = ROOT_IMAGE_MB if contents else VOLUME_MB[fstype]
    with open(path, "wb") as image:
        image.truncate(size * 1024 * 1024)
    if fstype == "ext4":
        args = ["mkfs.ext4", "-q", "-F"] + (["-d", str(contents)] if contents else []) + [str(path)]
    else:
        args = ["mkfs.xfs", "-q", "-f", str(path)]
    _run(args)


class Sandbox:
    """One instance: its namespace's first process, its images and its layout."""

    def __init__(self, instance_id: str, volumes: list, binds: list):
        self.instance_id = instance_id
        self.volumes = volumes  # [{"mount": "/data", "fstype": "xfs"}, ...]
        self.binds = binds  # [["/data", "/srv/data"], ...]: the first mounted again at the second
        self.dir = _state_dir / instance_id
        self.agent = None
        self.pid = None

    def start(self) -> None:
        if os.geteuid() != 0:
            raise SandboxError("a sandbox runs as root, as the SSM agent does")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        _image(self.dir / "root.img", "ext4", contents=_root_template())
        mounts = []
        for n, volume in enumerate(self.volumes):
            image = self.dir / f"volume{n}.img"
            _image(image, volume["fstype"])
            mounts.append(f'mkdir -p "$R{volume["mount"]}" && mount -o loop "{image}" "$R{volume["mount"]}"')
        for source, target in self.binds:
            mounts.append(f'mkdir -p "$R{target}" && mount --bind "$R{source}" "$R{target}"')
        setup = "\n".join(
            [
                "set -e",
                f'R="{self.dir}/root"',
                'mkdir -p "$R"',
                f'mount -o loop "{self.dir}/root.img" "$R"',
                *mounts,
                # Device nodes of the loop devices only: the instance's block devices, nothing of the host's.
                'mount -t tmpfs -o mode=755 dev "$R/dev"',
                f'for f in "{self.dir}"/*.img; do d=$(losetup -n -O NAME -j "$f" | head -1); '
                'if [ -n "$d" ]; then cp -a "$d" "$R/dev/"; fi; done',
                'for n in null zero random urandom; do cp -a "/dev/$n" "$R/dev/"; done',
                'mount -t tmpfs -o mode=755 run "$R/run"',
                'mount -t tmpfs tmp "$R/tmp"',
                'cd "$R"',
                "pivot_root . oldroot",
                # umount reads /proc/self/mountinfo: the instance's own proc first.
                "mount -t proc proc /proc",
                "umount -l /oldroot",
                "echo ready > /run/agent-ready",
                "exec sleep infinity",
            ]
        )
        self.agent = subprocess.Popen(
            ["unshare", "--mount", "--pid", "--fork", "--propagation", "private", "bash", "-c", setup],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(self.dir / "agent.log", "w"),
        )
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.agent.poll() is not None:
                raise SandboxError(f"the sandbox of {self.instance_id} did not start: {self._agent_log()}")
            pid = self._namespace_pid()
            if pid and self._exists_inside(pid, "/run/agent-ready"):
                self.pid = pid
                self.check_isolated()
                return
            time.sleep(0.05)
        raise SandboxError(f"the sandbox of {self.instance_id} did not start in 30 s: {self._agent_log()}")

    def _agent_log(self) -> str:
        return (self.dir / "agent.log").read_text()[-2000:]

    def _namespace_pid(self):
        """The namespace's first process (unshare's child), as the host sees it."""
        children = pathlib.Path(f"/proc/{self.agent.pid}/task/{self.agent.pid}/children")
        try:
            pids = children.read_text().split()
        except OSError:
            return None
        return int(pids[0]) if pids else None

    @staticmethod
    def _exists_inside(pid: int, path: str) -> bool:
        return os.path.exists(f"/proc/{pid}/root{path}")

    def mountinfo(self) -> list:
        """The namespace's mounts: (mount point, file system type, source)."""
        mounts = []
        for line in pathlib.Path(f"/proc/{self.pid}/mountinfo").read_text().splitlines():
            fields = line.split()
            after = fields[fields.index("-") + 1 :]
            mounts.append((fields[4], after[0], after[1]))
        return mounts

    def check_isolated(self) -> None:
        """Refuses to go on when any mount of the host is visible inside: only the instance's images (loop
        devices) and its own proc and tmpfs may be."""
        foreign = [m for m in self.mountinfo() if not (m[2].startswith("/dev/loop") or m[1] in ("proc", "tmpfs"))]
        if foreign:
            raise SandboxError(f"the sandbox of {self.instance_id} sees the host's mounts {foreign}: not run")

    def run(self, commands: str, timeout: float) -> tuple:
        """Runs the commands as AWS-RunShellScript does; (exit code, stdout, stderr), exit code None on timeout."""
        self.check_isolated()
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            process = subprocess.Popen(
                ["nsenter", "-t", str(self.pid), "-m", "-p", "-r", "-w", "/bin/bash", "-c", commands],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd="/",
                start_new_session=True,
            )
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, 9)
                code = None
            out.seek(0)
            err.seek(0)
            return code, out.read(), err.read()

    def thaw_all(self) -> list:
        """Thaws every file system of the instance that is frozen; the mount points it thawed."""
        thawed = []
        for target, fstype, _ in self.mountinfo():
            if fstype in ("ext4", "xfs") and target != "/":
                command = ["nsenter", "-t", str(self.pid), "-m", "-r", "fsfreeze", "-u", target]
                result = subprocess.run(command, capture_output=True, timeout=10)
                if result.returncode == 0:
                    thawed.append(target)
        return thawed

    def stop(self) -> None:
        """Thaws, then ends the instance's processes and its mounts (the namespace goes with its first process)."""
        try:
            if self.agent and self.agent.poll() is None:
                if self.pid:
                    self.thaw_all()
                    # The namespace's first process: killing it ends every process inside, and the mounts.
                    os.kill(self.pid, signal.SIGKILL)
                self.agent.kill()
                self.agent.wait(timeout=10)
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def create(instance_id: str, volumes: list, binds: list | None = None) -> Sandbox:
    destroy(instance_id)
    sandbox = Sandbox(instance_id, volumes, binds or [])
    sandbox.start()
    with _lock:
        _sandboxes[instance_id] = sandbox
    return sandbox


def of(instance_id: str):
    with _lock:
        return _sandboxes.get(instance_id)


def destroy(instance_id: str) -> None:
    with _lock:
        sandbox = _sandboxes.pop(instance_id, None)
    if sandbox:
        sandbox.stop()


def destroy_all() -> None:
    for instance_id in list(_sandboxes):
        destroy(instance_id)


# The emulator's end thaws and removes every instance it made.
atexit.register(destroy_all)
