"""Stand-ins for the parts other branches build (CONTRACT8), so orchestration is tested on its own.

* :class:`LocalMachine`: the Machine protocol over ``sh -c`` in a temp folder that plays the host's
  ``$HOME``; it logs every command and put, and can lose its "connection" on a chosen command.
* :class:`FakeGitHubRunners` / :class:`FakeGitLabRunners`: the contract's runner APIs in memory, held to
  the rules GitHub and GitLab document (a JIT name already taken is refused with 409; a busy runner
  cannot be deleted, 422), with a log of calls and every secret handed out.
"""

from __future__ import annotations

import itertools
import secrets
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from cml.errors import ConfigError, ForgeError, HostError
from cml.runner import Arch, Done, Gpu, Host, Machine, Package, Probe, RemoteRunner
from cml.runner.parts import Packages, Parts
from cml.runner.registrar import GitHub, GitLab, Registrar
from tests.unit.runner_orchestrate import scripts

_ids = itertools.count(100)


class LocalMachine:
    """A "host" whose home is ``root``; ``lose_on`` (a substring) makes that command drop the link."""

    def __init__(
        self,
        host: Host,
        root: Path,
        *,
        lose_on: str | None = None,
        log: list[str] | None = None,
        on_lose: Callable[[], None] = lambda: None,
    ) -> None:
        self.on_lose = on_lose
        self.host = host
        self.root = root
        self.lose_on = lose_on
        self.log = log if log is not None else []
        self.closed = False

    def run(self, command: str, *, stdin: bytes = b"", timeout: float | None = None) -> Done:
        """``sh -c command`` with HOME = the root; HostError when the link is lost or closed."""
        self.log.append(f"run {command}")
        if self.closed or (self.lose_on and self.lose_on in command):
            if not self.closed:
                self.on_lose()
            self.closed = True
            raise HostError(f"{self.host.name}: connection lost")
        env = {"HOME": str(self.root), "PATH": "/usr/bin:/bin"}
        try:
            done = subprocess.run(
                ["sh", "-c", command],
                input=stdin,
                env=env,
                cwd=self.root,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise HostError(f"{self.host.name}: `{command}` timed out") from None
        return Done(code=done.returncode, out=done.stdout.decode(), err=done.stderr.decode())

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        """Write ``data`` to ``path`` (temp name, then rename)."""
        self.log.append(f"put {path}")
        if self.closed:
            raise HostError(f"{self.host.name}: connection lost")
        target = Path(path)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        tmp.chmod(mode)
        tmp.rename(target)

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> LocalMachine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Hosts:
    """The stand-in hosts: one home folder each, which are down, which lose the link on what command."""

    base: Path
    down: set[str] = field(default_factory=set)
    lose_on: dict[str, str] = field(default_factory=dict)
    log: dict[str, list[str]] = field(default_factory=dict)
    probes: dict[str, Probe] = field(default_factory=dict)
    on_lose: Callable[[], None] = lambda: None
    active: int = 0
    most: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def home(self, host: Host) -> Path:
        path = self.base / host.address
        path.mkdir(parents=True, exist_ok=True)
        return path

    @contextmanager
    def connect(self, host: Host) -> Iterator[Machine]:
        """Connect (HostError for a host that is down); counts how many are connected at once."""
        if host.address in self.down:
            raise HostError(f"{host.name}: connection refused")
        with self.lock:
            self.active += 1
            self.most = max(self.most, self.active)
        try:
            lose = self.lose_on.pop(host.address, None)
            yield LocalMachine(
                host,
                self.home(host),
                lose_on=lose,
                log=self.log.setdefault(host.address, []),
                on_lose=self.on_lose,
            )
        finally:
            with self.lock:
                self.active -= 1

    def parse_probe(self, output: str, host: Host) -> Probe:
        """The probe chosen for ``host`` (the stand-in probe.sh printed only its frame)."""
        assert "probe=1" in output, output
        assert "end=1" in output, output
        return self.probes.get(host.address, PROBE)


PROBE = Probe(
    arch="x64",
    os="debian",
    os_version="12",
    glibc="2.36",
    init="systemd",
    disk_free_mib=50_000,
    docker=True,
    user="root",
    root=True,
)
GPU_PROBE = replace(
    PROBE,
    arch="arm64",
    gpus=(Gpu(model="NVIDIA A100", memory_mib=40960),) * 2,
    driver="550.54",
    cuda="12.4",
    nvidia_toolkit=False,
)


def labels(probe: Probe, extra: Sequence[str]) -> tuple[str, ...]:
    """Probe labels as R1's ``labels`` makes them (self-hosted, linux, arch, gpu, gpus-N), then ``extra``."""
    found = ["self-hosted", "linux", probe.arch]
    if probe.gpus:
        found += ["gpu", f"gpus-{len(probe.gpus)}"]
    return tuple(dict.fromkeys([*found, *extra]))


def require_gpu(probe: Probe, host: Host) -> None:
    if not probe.gpus:
        raise ConfigError(f"{host.name}: --gpu: no working NVIDIA GPU (nvidia-smi found none)")


class FakeRunnersBase:
    """The common part of both forges' runner APIs, in memory."""

    url = "https://github.com/acme/app"
    package_sha256 = "ab" * 32  # the fixtures set the sha256 of the package file they "fetch"

    def __init__(self) -> None:
        self.held: dict[int, RemoteRunner] = {}
        self.calls: list[str] = []
        self.secrets: list[str] = []
        self.fail_on: dict[str, Exception] = {}
        self.lock = threading.Lock()

    def _call(self, what: str) -> None:
        with self.lock:
            self.calls.append(what)
        if what.split(maxsplit=1)[0] in self.fail_on:
            raise self.fail_on[what.split(maxsplit=1)[0]]

    def _secret(self, prefix: str) -> str:
        value = prefix + secrets.token_hex(16)
        self.secrets.append(value)
        return value

    def _add(self, name: str, labels: Sequence[str]) -> int:
        with self.lock:
            if any(r.name == name for r in self.held.values()):
                raise ForgeError(f"runner {name!r} already exists", status=409)
            rid = next(_ids)
            self.held[rid] = RemoteRunner(id=rid, name=name, labels=tuple(labels), online=True)
            return rid

    def package(self, os: str, arch: Arch) -> Package:
        self._call(f"package {os} {arch}")
        return Package(
            os=os,
            arch=arch,
            version="2.320.0",
            url=f"https://dl.example/{arch}.tgz",
            sha256=self.package_sha256,
            filename=f"actions-runner-{os}-{arch}-2.320.0.tar.gz",
        )

    def runners(self, prefix: str = "") -> list[RemoteRunner]:
        self._call(f"runners {prefix}")
        return [r for r in self.held.values() if r.name.startswith(prefix)]

    def delete(self, runner_id: int) -> bool:
        self._call(f"delete {runner_id}")
        with self.lock:
            runner = self.held.get(runner_id)
            if runner is None:
                return False
            if runner.busy:  # DELETE .../runners/{id} answers 422 while the runner runs a job
                raise ForgeError(f"runner {runner.name} is running a job; wait for it to finish", status=422)
            del self.held[runner_id]
            return True

    def set_labels(self, runner_id: int, labels: Sequence[str]) -> None:
        self._call(f"set_labels {runner_id} {','.join(labels)}")
        self.held[runner_id] = replace(self.held[runner_id], labels=tuple(labels))

    def by_name(self) -> dict[str, RemoteRunner]:
        return {r.name: r for r in self.held.values()}


class FakeGitHubRunners(FakeRunnersBase):
    """``GitHubRunners``: a service runner appears in the list only once the host ran ``config.sh``."""

    def jit_config(
        self, name: str, labels: Sequence[str], *, group_id: int = 1, work_folder: str = "_work"
    ) -> tuple[int, str]:
        self._call(f"jit_config {name}")
        return self._add(name, labels), self._secret("jit-")

    def registration_token(self) -> str:
        self._call("registration_token")
        return self._secret("AREG")

    def remove_token(self) -> str:
        self._call("remove_token")
        return self._secret("AREM")


class FakeGitLabRunners(FakeRunnersBase):
    """``GitLabRunners``: ``POST /user/runners`` creates the runner and returns its glrt- token."""

    url = "https://gitlab.example.com"

    def create_runner(
        self, description: str, tags: Sequence[str], *, run_untagged: bool = False
    ) -> tuple[int, str]:
        self._call(f"create_runner {description}")
        return self._add(description, tags), self._secret("glrt-")


def make_parts(
    hosts: Hosts, registrar: Registrar | None, package_file: Path, script: Callable[[str], str] = scripts.text
) -> tuple[Parts, list[Package]]:
    """Parts over the stand-ins, and the list of packages "fetched" (each fetch returns ``package_file``)."""
    fetched: list[Package] = []

    def fetch(pkg: Package) -> Path:
        fetched.append(pkg)
        return package_file

    packages = Packages(registrar.api.package, fetch) if registrar else None
    parts = Parts(
        connect=hosts.connect,
        parse_probe=hosts.parse_probe,
        labels=labels,
        require_gpu=require_gpu,
        script=script,
        script_names=scripts.NAMES,
        registrar=registrar,
        packages=packages,
    )
    return parts, fetched


def github(api: FakeGitHubRunners) -> Registrar:
    return GitHub(api)


def gitlab(api: FakeGitLabRunners) -> Registrar:
    return GitLab(api)
