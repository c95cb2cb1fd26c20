"""Run the host scripts of ``runners/`` locally with ``sh``, stdin fed by the test.

Each test gets a world-traversable folder under /tmp (the runner user must reach its runner home,
the fake packages' record folder and the scripts) and, as root, a real non-root runner user. The
scripts are copied out of the package with ``cml.runner.scripts`` as the controller would upload them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cml.runner import scripts
from tests.integration.runner_scripts import standins

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (creates a runner user)")
# One user per xdist worker: a worker that created it removes it while another may still use it.
TEST_USER = "cml-test-runner" + (
    f"-{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else ""
)


@dataclass(frozen=True, kw_only=True)
class Result:
    """What one script run printed: exit code, the key=value lines, stderr."""

    code: int
    lines: list[str]
    err: str

    @property
    def out(self) -> dict[str, str]:
        """The key=value lines as a dict (the last of a repeated key wins)."""
        return dict(line.split("=", 1) for line in self.lines if "=" in line)

    @property
    def text(self) -> str:
        """Everything the script printed, stdout and stderr."""
        return "\n".join(self.lines) + "\n" + self.err


@dataclass(kw_only=True)
class World:
    """One test's folders and how to run a script in them."""

    root: Path
    user: str
    stand_ins: bool = False
    env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def record(self) -> Path:
        return self.root / "record"

    @property
    def scripts(self) -> Path:
        return self.root / "scripts"

    @property
    def units(self) -> Path:
        return self.root / "units"

    @property
    def standin(self) -> Path:
        return self.root / "standin"

    def runner_dir(self, name: str) -> Path:
        return self.home / name

    def state(self, name: str) -> dict[str, str]:
        """The runner's state file as a dict."""
        text = (self.runner_dir(name) / "cml-state").read_text()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def use_stand_ins(self) -> None:
        """Put the stand-in systemd-run / systemctl first on the scripts' PATH."""
        standins.install(self.root / "bin")
        self.stand_ins = True

    def run(self, script: str, stdin: str, *, as_user: str | None = None, timeout: float = 60) -> Result:
        """``sh SCRIPT`` with ``stdin``; as root unless ``as_user`` (then through setpriv)."""
        path = [str(self.root / "bin")] if self.stand_ins else []
        env = {
            **os.environ,
            "PATH": ":".join([*path, os.environ["PATH"]]),
            "CML_UNIT_DIR": str(self.units),
            "STANDIN_DIR": str(self.standin),
            **self.env,
        }
        argv = ["sh", str(self.scripts / script)]
        if as_user is not None:
            env["HOME"] = str(self.root / "login-home")
            argv = ["setpriv", f"--reuid={as_user}", f"--regid={as_user}", "--init-groups", *argv]
        done = subprocess.run(
            argv, input=stdin, capture_output=True, text=True, env=env, timeout=timeout, check=False
        )
        return Result(code=done.returncode, lines=done.stdout.splitlines(), err=done.stderr)


def _ensure_user(name: str) -> None:
    if subprocess.run(["id", "-u", name], capture_output=True, check=False).returncode != 0:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/bin/sh", name],
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="session")
def runner_user() -> Iterator[str]:
    """A real non-root user for the runners (created when root; removed at the end)."""
    if os.geteuid() != 0:
        yield ""
        return
    existed = subprocess.run(["id", "-u", TEST_USER], capture_output=True, check=False).returncode == 0
    _ensure_user(TEST_USER)
    yield TEST_USER
    if not existed:
        subprocess.run(["userdel", TEST_USER], capture_output=True, check=False)


def _kill_leftovers(root: Path) -> None:
    """Kill every process whose working directory is inside ``root`` (runners the test left)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if cwd.startswith(str(root)):
            with contextlib.suppress(OSError):
                os.kill(int(proc.name), signal.SIGKILL)


@pytest.fixture
def world(runner_user: str) -> Iterator[World]:
    """A fresh world-traversable folder with the scripts copied in as the controller uploads them."""
    root = Path(tempfile.mkdtemp(prefix="cml-rs-", dir="/tmp"))
    root.chmod(0o755)
    (root / "scripts").mkdir()
    for name in scripts.names():
        target = root / "scripts" / name
        target.write_text(scripts.text(name))
    (root / "pkg").mkdir()
    (root / "units").mkdir()
    (root / "login-home").mkdir()
    (root / "login-home").chmod(0o777)
    world = World(root=root, user=runner_user)
    yield world
    _kill_leftovers(root)
    shutil.rmtree(root, ignore_errors=True)
    for leftover in Path("/run/cml-runner").glob("rs-*.env") if Path("/run/cml-runner").is_dir() else []:
        leftover.unlink()


def lines(**values: str) -> str:
    """stdin for a script: ``key=value`` lines."""
    return "".join(f"{key}={value}\n" for key, value in values.items())


class ProcSampler:
    """Samples every process's argv (/proc/*/cmdline and ``ps -eo args``) while a script runs."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        n = 0
        while not self._stop.is_set():
            for proc in Path("/proc").iterdir():
                try:
                    self.seen.add((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
                except (OSError, UnicodeDecodeError):
                    continue
            if n % 5 == 0:
                ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=False)
                self.seen.update(ps.stdout.splitlines())
            n += 1
            time.sleep(0.01)

    def __enter__(self) -> ProcSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def files_holding(root: Path, secret: str, *, skip: Path | None = None) -> list[Path]:
    """Every regular file under ``root`` (outside ``skip``) whose bytes hold ``secret``."""
    found: list[Path] = []
    for dirpath, _dirs, names in os.walk(root):
        if skip is not None and Path(dirpath).is_relative_to(skip):
            continue
        for name in names:
            path = Path(dirpath) / name
            try:
                if path.is_file() and secret.encode() in path.read_bytes():
                    found.append(path)
            except OSError:
                continue
    return found


def environ_holders(secret: str) -> dict[int, list[str]]:
    """pid → the names of the environment variables holding ``secret``, for every process."""
    found: dict[int, list[str]] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            items = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        names = [i.split(b"=", 1)[0].decode() for i in items if secret.encode() in i]
        if names:
            found[int(proc.name)] = names
    return found


def session_of(pid: int) -> int:
    """The session id of ``pid`` (field 6 of /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[3])


def wait_for(predicate: object, timeout: float = 10) -> bool:
    """Poll ``predicate()`` until it is true or ``timeout`` seconds passed."""
    assert callable(predicate)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def alive(pid: int) -> bool:
    """Is ``pid`` running (and not a zombie)?"""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
