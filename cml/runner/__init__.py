"""Self-hosted runners provisioned over SSH: ``cml runner launch | status | teardown | gc``.

The shared vocabulary lives here; each layer is its own module:

* ``hosts``     — :class:`Host` specs from ``-H user@host[:port]`` and ``--inventory FILE.yaml``
* ``ssh``       — :class:`Machine`: a paramiko connection with verified host keys (``run``/``put``)
* ``probe``     — what a host is (``runners/probe.sh``) and the labels that follow
* ``package``   — the runner package for an OS/arch, fetched once on the controller, sha256-verified
* ``github`` / ``gitlab`` — the forge's runner API (registration, JIT config, list, delete, labels)
* ``scripts``   — the files of ``runners/`` as the wheel ships them
* ``registrar`` — one interface over both forges' runner APIs (what provisioning mints and deletes)
* ``parts``     — the parts above gathered (tests hand in stand-ins), per-host progress and timeout
* ``session``   — what every command assembles first: hosts, SSH access, forge, parts
* ``state``     — runner names, the stdin/stdout protocol of the scripts, the host's state
* ``hostops``   — the remote commands: one-round-trip survey (probe + state), scripts, packages
* ``plan`` / ``install`` — what launch would change on a host, and carrying it out (with rollback)
* ``provision`` — launch / status / teardown / gc of one host
* ``fleet``     — many hosts: bounded parallelism, per-host timeout, progress, per-host results
* ``live``      — the live progress table (rich) on a terminal

What runs on the host is POSIX sh under the top-level ``runners/`` folder (shipped in the wheel as
``cml/runner/scripts``); secrets reach it on the remote command's stdin, never argv, env or a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

Arch = Literal["x64", "arm64"]
Mode = Literal["jit", "service", "single"]


@dataclass(frozen=True, kw_only=True)
class Host:
    """One machine to provision, as the user named it (``-H``) or the inventory describes it."""

    user: str
    address: str  # host name or IP, as given
    port: int = 22
    key: str | None = None  # path of a private key file; None: --identity / CML_SSH_KEY
    labels: tuple[str, ...] = ()  # the user's extra labels for this host
    count: int = 1  # runners on this host
    jump: Host | None = None  # ProxyJump host
    host_key: str | None = None  # a pinned public key ("ssh-ed25519 AAAA..."), else known_hosts

    @property
    def name(self) -> str:
        """``user@address:port``: how messages name the host."""
        return f"{self.user}@{self.address}:{self.port}"


@dataclass(frozen=True, kw_only=True)
class Done:
    """A finished remote command."""

    code: int
    out: str
    err: str


class Machine(Protocol):
    """A connected host. Secrets go in ``stdin``, never in ``command``."""

    host: Host

    def run(self, command: str, *, stdin: bytes = b"", timeout: float | None = None) -> Done:
        """Run ``command`` with sh (via the login shell); raises HostError on a lost connection or timeout."""
        ...

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        """Write ``data`` to ``path`` on the host over SFTP (atomically: temp name, then rename)."""
        ...

    def close(self) -> None:
        """Close the connection (and the jump host's)."""
        ...


@dataclass(frozen=True, kw_only=True)
class Gpu:
    """One NVIDIA GPU as ``nvidia-smi`` reports it."""

    model: str  # "NVIDIA A100-SXM4-40GB"
    memory_mib: int


@dataclass(frozen=True, kw_only=True)
class Probe:
    """What one round trip of ``runners/probe.sh`` found on a host."""

    arch: Arch
    os: str  # "debian", "ubuntu", ... (ID from /etc/os-release)
    os_version: str  # VERSION_ID
    glibc: str  # "2.36", "" when musl/unknown
    init: Literal["systemd", "other"]
    disk_free_mib: int  # in the runner home's filesystem
    docker: bool  # a docker CLI that reaches a daemon
    gpus: tuple[Gpu, ...] = ()
    driver: str = ""  # NVIDIA driver version
    cuda: str = ""  # CUDA version the driver supports ("12.4")
    nvidia_toolkit: bool = False  # nvidia-ctk / nvidia-container-runtime present
    user: str = ""  # the login user
    root: bool = False  # logged in as root


@dataclass(frozen=True, kw_only=True)
class Package:
    """A runner package for one OS/arch, as the forge publishes it."""

    os: str  # "linux"
    arch: Arch
    version: str
    url: str
    sha256: str
    filename: str


@dataclass(frozen=True, kw_only=True)
class RemoteRunner:
    """A runner as the forge lists it."""

    id: int
    name: str
    labels: tuple[str, ...] = ()
    online: bool = False
    busy: bool = False


@dataclass(frozen=True, kw_only=True)
class HostResult:
    """What one command did on one host (``--json`` prints a list of these)."""

    host: str
    ok: bool
    action: str  # "launched", "unchanged", "updated", "removed", "planned", "failed", ...
    runners: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    message: str = ""
    details: dict[str, str] = field(default_factory=dict)
