"""End to end: ``cml runner ...`` (the real CLI, in-process) against real sshd hosts and the fake forges.

Every part is the real one: R1's paramiko connection and probe, R2's runner APIs and package fetch, R3's
host scripts, R4's orchestration. Around them: sshd per loopback address (``ssh_lab``), the fake
GitHub / GitLab with runner endpoints, a release server serving R3's fake runner packages (whose
``config.sh`` / ``run.sh`` / ``gitlab-runner`` record argv and environment), a real non-root runner
user per xdist worker, and, where a test says "stand-in", a stand-in systemd on the host's PATH.

The fake packages do not talk to the fake forge; :meth:`E2E.sync` plays that part: it replays what
they recorded (``config.sh`` with a registration token, ``run.sh`` with a JIT config, ``gitlab-runner
register`` with a ``glrt-`` token, ``config.sh remove``) against the fake forge, as the real runner
would have done over the network.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cml.cli import main
from tests.fakes import runner_packages as fake_packages
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.releases import FakeReleases, actions_runner, gitlab_folder
from tests.integration.github import openapi
from tests.integration.github.openapi import Checker
from tests.integration.runner.conftest import ssh_lab, sysbin  # noqa: F401 - fixtures used here
from tests.integration.runner.sshd import FakeHost, Lab

REPO = "acme/app"
ADMIN = "tok-runner-admin-7c1d9e2f4a6b"  # a fine-grained token with Administration: write
GL_TOKEN = "glpat-RunnerAdminApiScope000001"
PROJECT_ID = 42
RUNNER_USER = "cml-e2e-runner" + (
    f"-{os.environ['PYTEST_XDIST_WORKER']}" if "PYTEST_XDIST_WORKER" in os.environ else ""
)


@dataclass(frozen=True, kw_only=True)
class Run:
    """One ``cml`` invocation: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    @property
    def errors(self) -> list[str]:
        """The ``cml: error: ...`` lines."""
        return [line for line in self.err.splitlines() if line.startswith("cml: error:")]


@dataclass(kw_only=True)
class E2E:
    """One test's world: the lab, a forge, the release server, the packages' record folder."""

    lab: Lab
    root: Path  # world-traversable: the runner user reaches the record folder
    forge: str
    env: dict[str, str]
    gh: FakeGitHub | None = None
    gl: FakeGitLab | None = None
    releases: FakeReleases | None = None
    seen: set[str] = field(default_factory=set)
    outputs: list[str] = field(default_factory=list)

    @property
    def record(self) -> Path:
        return self.root / "record"

    def host(self, **options: object) -> FakeHost:
        """A fake host whose runners run as this worker's runner user."""
        env = {"CML_RUNNER_USER": RUNNER_USER, **dict(options.pop("env", None) or {})}  # type: ignore[call-overload]
        return self.lab.host(env=env, **options)  # type: ignore[arg-type]

    def standin_host(self, **options: object) -> FakeHost:
        """A fake host with R3's stand-in ``systemctl`` / ``systemd-run`` (this machine runs no systemd)."""
        from tests.integration.runner_scripts import standins

        n = len(self.lab.hosts_started)
        units, calls = self.root / f"units-{n}", self.root / f"standin-{n}"
        units.mkdir()
        calls.mkdir()
        fake = self.host(env={"CML_UNIT_DIR": str(units), "STANDIN_DIR": str(calls)}, **options)
        standins.install(fake.bin)
        return fake

    def cli(self, *argv: str, hosts: tuple[FakeHost, ...] = (), **env: str) -> Run:
        """``cml runner ARGV`` with ``-H`` for each of ``hosts``, the lab's key and known_hosts."""
        args = ["runner", *argv]
        for fake in hosts:
            args += ["-H", f"{fake.host.user}@{fake.host.address}:{fake.host.port}"]
        args += ["--identity", str(self.lab.identity), "--known-hosts", str(self.lab.known_hosts)]
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args, {**self.env, **env})
        self.outputs += [out.getvalue(), err.getvalue()]
        return Run(code=code, out=out.getvalue(), err=err.getvalue())

    def calls(self, command: str | None = None) -> list[fake_packages.Call]:
        """What the fake runner packages recorded (see tests/fakes/runner_packages.py)."""
        return fake_packages.calls(self.record, command) if self.record.exists() else []

    def sync(self) -> None:
        """The runners' side of the forge: replay what the fake packages did since the last sync."""
        for call in fake_packages.calls(self.record):
            key = repr((call.command, call.cwd, call.argv, sorted(call.env.items())))
            if key in self.seen:
                continue
            self.seen.add(key)
            self._replay(call)

    def _replay(self, call: fake_packages.Call) -> None:
        with contextlib.suppress(LookupError):
            if (
                self.gh is not None
                and call.command == "run.sh"
                and "ACTIONS_RUNNER_INPUT_JITCONFIG" in call.env
            ):
                self.gh.runners.register(call.env["ACTIONS_RUNNER_INPUT_JITCONFIG"])
            elif self.gh is not None and call.command == "config.sh":
                token = call.env.get("ACTIONS_RUNNER_INPUT_TOKEN", "")
                if "remove" in call.argv:
                    self.gh.runners.unregister(token, Path(call.cwd).name)
                else:
                    argv = list(call.argv)
                    name = argv[argv.index("--name") + 1]
                    labels = argv[argv.index("--labels") + 1].split(",") if "--labels" in argv else []
                    self.gh.runners.register(token, name, labels)
            elif self.gl is not None and call.command == "gitlab-runner-register":
                self.gl.runners.register(call.env.get("CI_SERVER_TOKEN", ""))

    def remote(self) -> dict[str, list[str]]:
        """The forge's runners: name → labels (GitHub: custom labels; GitLab: tags)."""
        if self.gh is not None:
            return {r.name: list(r.labels) for r in self.gh.runners.runners.values()}
        assert self.gl is not None
        return {r["description"]: list(r["tag_list"]) for r in self.gl.runners.runners.values()}

    def issued(self) -> list[str]:
        """Every registration token, remove token, JIT config and glrt- token the forge handed out."""
        return list(self.gh.runners.issued if self.gh is not None else self.gl.runners.issued)  # type: ignore[union-attr]


def world_folder() -> Path:
    """A fresh folder under /tmp that every user can traverse (0755)."""
    root = Path(tempfile.mkdtemp(prefix="cml-e2e-", dir="/tmp"))
    root.chmod(0o755)
    return root


@pytest.fixture(scope="session")
def runner_user() -> Iterator[str]:
    """This worker's real non-root runner user (created here; removed at the end)."""
    if subprocess.run(["id", "-u", RUNNER_USER], capture_output=True, check=False).returncode != 0:
        argv = ["useradd", "--system", "--no-create-home", "--user-group", "--shell", "/bin/sh", RUNNER_USER]
        subprocess.run(argv, check=True, capture_output=True)
    yield RUNNER_USER
    for _ in range(50):  # userdel answers 8 while a process of the user (a runner not reaped yet) exists
        if subprocess.run(["userdel", RUNNER_USER], capture_output=True, check=False).returncode != 8:
            break
        time.sleep(0.1)


@pytest.fixture(scope="session")
def openapi_checker() -> Checker | None:
    spec = openapi.fetch()
    return openapi.Checker(spec) if spec else None


def _packages(root: Path, record: Path) -> dict[str, bytes]:
    dest = root / "packages"
    dest.mkdir()
    return {
        "gh-x64": fake_packages.github_package(dest, record, arch="x64").read_bytes(),
        "gh-arm64": fake_packages.github_package(dest, record, arch="arm64").read_bytes(),
        "gl-amd64": fake_packages.gitlab_binary(dest, record, arch="amd64").read_bytes(),
        "gl-arm64": fake_packages.gitlab_binary(dest, record, arch="arm64").read_bytes(),
    }


def _cleanup(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)
    folder = Path("/run/cml-runner")
    if folder.is_dir():
        for leftover in folder.glob("cml-*.env"):
            leftover.unlink(missing_ok=True)


@pytest.fixture
def github(
    ssh_lab: Lab,  # noqa: F811
    runner_user: str,
    openapi_checker: Checker | None,
) -> Iterator[E2E]:
    """An E2E world on the fake GitHub (repository ``acme/app``, token with Administration write)."""
    root = world_folder()
    packages = _packages(root, root / "record")
    with FakeGitHub() as gh, FakeReleases() as releases:
        gh.add_repo(REPO)
        gh.add_token(ADMIN, "ada")
        actions_runner(gh, releases, {"x64": packages["gh-x64"], "arm64": packages["gh-arm64"]})
        env = _base_env(root) | {
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_API_URL": gh.url,
            "GITHUB_SERVER_URL": gh.html_root,
            "GITHUB_SHA": "a" * 40,
            "GITHUB_EVENT_NAME": "workflow_dispatch",
            "REPO_TOKEN": ADMIN,
        }
        world = E2E(lab=ssh_lab, root=root, forge="github", env=env, gh=gh, releases=releases)
        try:
            yield world
        finally:
            ssh_lab.stop()
            _cleanup(root)
    assert not releases.credentials(), "a token reached the release server"
    if openapi_checker is not None:
        violations = openapi_checker.violations(gh)
        assert not violations, "cml or the fake broke GitHub's OpenAPI description:\n" + "\n".join(violations)


@pytest.fixture
def gitlab(ssh_lab: Lab, runner_user: str) -> Iterator[E2E]:  # noqa: F811
    """An E2E world on the fake GitLab (project ``group/project``, a token with the api scope)."""
    root = world_folder()
    packages = _packages(root, root / "record")
    with FakeGitLab() as gl, FakeReleases() as releases:
        gl.add_user("runner_admin", GL_TOKEN, scopes=("api",))
        gl.add_project("group/project", PROJECT_ID)
        base = gitlab_folder(releases, {"amd64": packages["gl-amd64"], "arm64": packages["gl-arm64"]})
        env = _base_env(root) | {
            "GITLAB_CI": "true",
            "CI_SERVER_URL": gl.url,
            "CI_API_V4_URL": gl.api,
            "CI_PROJECT_ID": str(PROJECT_ID),
            "CI_PROJECT_PATH": "group/project",
            "CI_COMMIT_SHA": "b" * 40,
            "REPO_TOKEN": GL_TOKEN,
            "CML_GITLAB_RUNNER_DOWNLOADS": base,
        }
        world = E2E(lab=ssh_lab, root=root, forge="gitlab", env=env, gl=gl, releases=releases)
        try:
            yield world
        finally:
            ssh_lab.stop()
            _cleanup(root)
    assert not releases.credentials(), "a token reached the release server"


def _base_env(root: Path) -> dict[str, str]:
    """The controller's environment: its own HOME and package cache, nothing of the test machine's."""
    home = root / "controller"
    home.mkdir()
    return {"HOME": str(home), "XDG_CACHE_HOME": str(home / ".cache"), "PATH": os.environ["PATH"]}


def state_of(fake: FakeHost, name: str) -> dict[str, str]:
    """A runner's state file on ``fake`` (``CML_RUNNER_HOME/NAME/cml-state``) as a dict."""
    text = (fake.runners / name / "cml-state").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def runner_name(fake: FakeHost, n: int = 1) -> str:
    """The default name of ``fake``'s n-th runner: ``cml-<address with dashes>-<n>``."""
    return f"cml-{fake.host.address.replace('.', '-')}-{n}"


def files_holding(roots: Mapping[str, Path] | list[Path], secret: str) -> list[Path]:
    """Every regular file under ``roots`` whose bytes hold ``secret``."""
    found: list[Path] = []
    for root in roots.values() if isinstance(roots, Mapping) else roots:
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                path = Path(dirpath) / name
                with contextlib.suppress(OSError):
                    if path.is_file() and secret.encode() in path.read_bytes():
                        found.append(path)
    return found


def unmasked(text: str) -> str:
    """``text`` without GitHub's ``::add-mask::`` commands (they tell the log to hide a secret)."""
    return "\n".join(line for line in text.splitlines() if not line.startswith("::add-mask::"))
