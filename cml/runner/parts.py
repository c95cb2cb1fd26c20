"""The parts provisioning is built from, gathered in one place so tests can hand in stand-ins.

:func:`real_parts` wires the real ones: :func:`cml.runner.ssh.connect`, :mod:`cml.runner.probe`,
:mod:`cml.runner.package` and :mod:`cml.runner.scripts`. :class:`Step` is how a host's work reports
progress and learns that it ran out of time or was interrupted.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

from cml.errors import HostError, Interrupted
from cml.runner import Arch, Host, Machine, Package, Probe
from cml.runner.registrar import Registrar


@dataclass(frozen=True, kw_only=True)
class Access:
    """How to reach hosts: the key, the known hosts file, whether a new host key may be trusted."""

    identity: str | None = None  # a key file path or the key itself (CML_SSH_KEY)
    known_hosts: Path = field(default_factory=lambda: Path.home() / ".ssh" / "known_hosts")
    accept_new: bool = False
    connect_timeout: float = 15.0


class Packages:
    """Each OS/arch's runner package, asked of the forge once and fetched (at most) once per run."""

    def __init__(self, describe: Callable[[str, Arch], Package], fetch: Callable[[Package], Path]) -> None:
        self._describe = describe
        self._fetch = fetch
        self._lock = threading.Lock()
        self._locks: dict[object, threading.Lock] = {}
        self._found: dict[tuple[str, str], Package] = {}
        self._files: dict[str, Path] = {}

    def _once(self, key: object) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(key, threading.Lock())

    def describe(self, os: str, arch: Arch) -> Package:
        """The package for ``os``/``arch`` as the forge publishes it; hosts asking at once wait for one call."""
        with self._once((os, arch)):
            if (os, arch) not in self._found:
                self._found[(os, arch)] = self._describe(os, arch)
            return self._found[(os, arch)]

    def file(self, pkg: Package) -> Path:
        """``pkg``'s verified file on the controller, fetched on first use."""
        with self._once(pkg.sha256):
            if pkg.sha256 not in self._files:
                self._files[pkg.sha256] = self._fetch(pkg)
            return self._files[pkg.sha256]


@dataclass(frozen=True, kw_only=True)
class Parts:
    """What provisioning calls: connection, probe parser, labels, GPU check, scripts, packages, forge API."""

    connect: Callable[[Host], AbstractContextManager[Machine]]
    parse_probe: Callable[[str, Host], Probe]  # probe.sh's output → Probe
    labels: Callable[[Probe, Sequence[str]], tuple[str, ...]]
    require_gpu: Callable[[Probe, Host], None]
    script: Callable[[str], str]  # a file of runners/ by name
    script_names: tuple[str, ...]  # every file the host needs, put in one folder there
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
    """The real parts: R1's ssh and probe, R2's package fetch, R3's scripts."""
    from cml.runner import package, probe, scripts, ssh

    def connect(host: Host) -> AbstractContextManager[Machine]:
        return ssh.connect(
            host,
            identity=host.key or access.identity,
            known_hosts=access.known_hosts,
            accept_new=access.accept_new,
            timeout=access.connect_timeout,
        )

    def fetch(pkg: Package) -> Path:
        return package.from_file(runner_package, pkg) if runner_package else package.fetch(pkg, cache)

    packages = Packages(registrar.api.package, fetch) if registrar else None
    return Parts(
        connect=connect,
        parse_probe=probe.parse,
        labels=probe.labels,
        require_gpu=probe.require_gpu,
        script=scripts.text,
        script_names=scripts.names(),
        registrar=registrar,
        packages=packages,
    )
