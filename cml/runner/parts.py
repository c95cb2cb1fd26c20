"""The parts provisioning is built from, gathered in one place so tests can hand in stand-ins.

:func:`real_parts` wires the real ones: ``cml.runner.ssh.connect``, ``cml.runner.probe``,
``cml.runner.package`` and ``cml.runner.scripts``. :class:`Step` is how a host's work reports progress
and learns that it ran out of time or was interrupted.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml.errors import CmlError, HostError
from cml.runner import Arch, Host, Machine, Package, Probe
from cml.runner.registrar import Registrar


class Interrupted(CmlError):
    """Ctrl-C reached the controller while this host was being worked on."""

    exit_code = 130


@dataclass(frozen=True, kw_only=True)
class Access:
    """How to reach hosts: the key, the known hosts file, whether a new host key may be trusted."""

    identity: str | None = None  # a key file path or the key itself (CML_SSH_KEY)
    known_hosts: Path = field(default_factory=lambda: Path.home() / ".ssh" / "known_hosts")
    accept_new: bool = False
    connect_timeout: float = 15.0


class Packages:
    """Each OS/arch's runner package, asked of the forge and fetched once per controller run."""

    def __init__(self, describe: Callable[[str, Arch], Package], fetch: Callable[[Package], Path]) -> None:
        self._describe = describe
        self._fetch = fetch
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, str], threading.Lock] = {}
        self._done: dict[tuple[str, str], tuple[Package, Path]] = {}

    def get(self, os: str, arch: Arch) -> tuple[Package, Path]:
        """The package for ``os``/``arch`` and its verified file; hosts asking at once wait for one fetch."""
        key = (os, arch)
        with self._lock:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self._done:
                pkg = self._describe(os, arch)
                self._done[key] = (pkg, self._fetch(pkg))
            return self._done[key]


@dataclass(frozen=True, kw_only=True)
class Parts:
    """What provisioning calls: connection, probe, labels, GPU check, packages, scripts, forge API."""

    connect: Callable[[Host], AbstractContextManager[Machine]]
    probe: Callable[[Machine], Probe]
    labels: Callable[[Probe, Sequence[str]], tuple[str, ...]]
    require_gpu: Callable[[Probe, Host], None]
    script: Callable[[str], str]
    registrar: Registrar | None  # None: a --dry-run without a token consults no forge
    packages: Packages | None = None


@dataclass(kw_only=True)
class Step:
    """Progress of one host: ``step("probe")`` reports, and raises once the host's time is up or
    Ctrl-C was pressed (Interrupted, exit 130)."""

    host: str
    report: Callable[[str, str], None] = lambda host, text: None
    timeout: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float = field(default_factory=time.monotonic)
    current: str = "start"

    def __call__(self, text: str) -> None:
        """Say that ``text`` starts now; raise Interrupted or HostError (timed out) first if due."""
        self.check()
        self.current = text
        self.report(self.host, text)

    def check(self) -> None:
        """Raise Interrupted when cancelled, HostError naming the step when out of time."""
        if self.cancel.is_set():
            raise Interrupted(f"{self.host}: interrupted during {self.current}")
        left = self.left()
        if left is not None and left <= 0:
            raise HostError(f"{self.host}: timed out after {self.timeout:g} s during {self.current}")

    def budget(self) -> float | None:
        """Seconds a remote command may take now (None: no limit); raises like :meth:`check` when none are left."""
        self.check()
        return self.left()

    def left(self) -> float | None:
        """Seconds left before the host's timeout (None: no timeout)."""
        return None if self.timeout is None else self.timeout - (time.monotonic() - self.started)


def real_parts(
    access: Access, registrar: Registrar | None, *, cache: Path, runner_package: Path | None = None
) -> Parts:
    """The real parts (CONTRACT8: R1 ssh/probe, R2 package, R3 scripts), imported only now."""
    ssh: Any = importlib.import_module("cml.runner.ssh")
    probe: Any = importlib.import_module("cml.runner.probe")
    package: Any = importlib.import_module("cml.runner.package")
    scripts: Any = importlib.import_module("cml.runner.scripts")

    def connect(host: Host) -> AbstractContextManager[Machine]:
        conn: AbstractContextManager[Machine] = ssh.connect(
            host,
            identity=host.key or access.identity,
            known_hosts=access.known_hosts,
            accept_new=access.accept_new,
            timeout=access.connect_timeout,
        )
        return conn

    def fetch(pkg: Package) -> Path:
        path: Path = package.from_file(runner_package, pkg) if runner_package else package.fetch(pkg, cache)
        return path

    packages = Packages(registrar.api.package, fetch) if registrar else None
    return Parts(
        connect=connect,
        probe=probe.probe,
        labels=probe.labels,
        require_gpu=probe.require_gpu,
        script=scripts.text,
        registrar=registrar,
        packages=packages,
    )
