"""Real OpenSSH servers on loopback addresses, one per fake host, for the ``cml runner`` tests.

A :class:`Lab` (the ``ssh_lab`` fixture) starts Debian's ``sshd`` on 127.0.0.2, 127.0.0.3, ... (a free
port each), with a throwaway ed25519 host key per host, one throwaway user key for the lab, and a
``known_hosts`` the test writes. Each host's sessions get their own environment through ``SetEnv``:

* ``PATH=<host>/bin:<sysbin>``: ``bin`` holds the host's fake binaries, ``sysbin`` links every program
  of the test machine except docker, systemd and NVIDIA tools, so "absent" really is absent.
* ``HOME=<host>/home``: the host's own home (sshd still starts commands, and SFTP resolves relative
  paths, in the login user's real home: give :meth:`Machine.put` absolute paths).
* ``CML_FAKE_HOST=<host>``: marks every process the host runs, so teardown can end them all.
* ``CML_RUNNER_HOME=<host>/runners``: the host's own runner home (the host scripts' default), plus
  whatever ``env`` the test gives (``CML_RUNNER_USER``, the stand-in systemd's ``STANDIN_DIR``...).

Every fake binary appends ``name args`` to ``<host>/ran.log`` when it runs; sshd logs at DEBUG1 to
``<host>/sshd.log``, from which :meth:`FakeHost.execs` counts the commands it started and
:meth:`FakeHost.logins` the logins it accepted (sshd does not log a command's text).

Typical use::

    def test_x(ssh_lab: Lab) -> None:
        arm, gpu = ssh_lab.hosts(2, arch=["arm64", "x64"], gpus=[0, 2])
        with connect(arm.host, identity=str(ssh_lab.identity), known_hosts=ssh_lab.known_hosts) as m:
            ...
        assert arm.execs() == 1 and arm.ran() == ["uname -m"]
"""

from __future__ import annotations

import contextlib
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from cml.runner import Host

SSHD = "/usr/sbin/sshd"
GPU_MODEL = "NVIDIA A100-SXM4-40GB"
DRIVER = "550.54.15"
CUDA = "12.4"
#: What a host without them lacks: left out of ``sysbin``.
HIDDEN = frozenset(
    {
        "docker",
        "dockerd",
        "systemctl",
        "systemd-run",
        "nvidia-smi",
        "nvidia-ctk",
        "nvidia-container-cli",
        "nvidia-container-runtime",
    }
)
_SYSTEM_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
_BUSYBOX_APPLETS = ("awk", "cat", "cut", "df", "dirname", "grep", "head", "id", "ls", "sed", "timeout", "tr")
_addresses = itertools.count()
T = TypeVar("T")


def can_run() -> str | None:
    """Why these servers cannot run here, or None when they can (root and openssh-server)."""
    if os.geteuid() != 0:
        return "not root (sshd must run as root to switch users)"
    if not Path(SSHD).is_file():
        return "openssh-server is not installed (apt-get install openssh-server)"
    return None


def _fake(root: Path, name: str, body: str) -> str:
    """A POSIX sh fake that logs ``name args`` to ``root/ran.log`` before ``body``."""
    return f'#!/bin/sh\nprintf "%s\\n" "{name} $*" >> "{root}/ran.log"\n{body}\n'


def _uname(arch: str) -> str:
    machine = {"x64": "x86_64", "arm64": "aarch64"}.get(arch, arch)
    return f'if [ "$1" = -m ]; then echo {machine}; exit 0; fi\nexec /bin/uname "$@"'


def _nvidia_smi(gpus: int, model: str, memory_mib: int) -> str:
    rows = "\n".join(f"{model}, {memory_mib}, {DRIVER}" for _ in range(gpus))
    header = f"| NVIDIA-SMI {DRIVER}              Driver Version: {DRIVER}      CUDA Version: {CUDA}     |"
    return (
        'case "$*" in\n'
        f'  "--query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits")\n'
        f"    cat <<'EOF'\n{rows}\nEOF\n    ;;\n"
        f'  "") echo "Tue Nov  5 10:00:00 2024"\n     echo "+----+"\n     echo "{header}"\n     ;;\n'
        '  *) echo "nvidia-smi: unexpected arguments: $*" >&2; exit 2 ;;\n'
        "esac"
    )


_DOCKER = (
    'case "$1" in\n  info) echo 27.3.1 ;;\n  *) echo "docker $* (fake)" ;;\nesac'  # docker info --format ...
)
_SYSTEMCTL = 'case "$1" in\n  is-system-running) echo running ;;\n  *) : ;;\nesac'


def _pair() -> tuple[str, str]:
    """A new ed25519 key: its private key (OpenSSH PEM) and its public line ``ssh-ed25519 AAAA``."""
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


def fingerprint(public: str) -> str:
    """``SHA256:...`` of a public key line, as ssh-keygen -l shows it."""
    import base64
    import hashlib

    digest = hashlib.sha256(base64.b64decode(public.split()[1])).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _free_port(address: str) -> int:
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc), deepest last."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _marked(marker: str) -> list[int]:
    """Processes whose environment holds ``marker`` (a line of /proc/PID/environ)."""
    needle = marker.encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if needle in (entry / "environ").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _kill(pids: Sequence[int]) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@dataclass(kw_only=True)
class FakeHost:
    """One sshd on a loopback address: a fake machine with its own PATH, HOME and logs."""

    host: Host
    root: Path
    host_key: str  # its public key line, "ssh-ed25519 AAAA..."
    sysbin: Path
    authorized_keys: Path
    proc: subprocess.Popen[bytes] | None = None
    extra_config: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)

    @property
    def bin(self) -> Path:
        """The folder of this host's fake binaries (first on its PATH)."""
        return self.root / "bin"

    @property
    def home(self) -> Path:
        """The host's ``$HOME``."""
        return self.root / "home"

    @property
    def runners(self) -> Path:
        """The host's runner home (``CML_RUNNER_HOME``)."""
        return self.root / "runners"

    @property
    def log(self) -> Path:
        return self.root / "sshd.log"

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.host_key)

    @property
    def marker(self) -> str:
        return f"CML_FAKE_HOST={self.root}"

    def add_bin(self, name: str, body: str) -> Path:
        """A fake ``name`` on this host's PATH running the sh ``body`` (after logging to ran.log)."""
        path = self.bin / name
        path.unlink(missing_ok=True)  # never write through a link (a busybox applet) to its target
        path.write_text(_fake(self.root, name, body))
        path.chmod(0o755)
        return path

    def ran(self) -> list[str]:
        """``name args`` of every fake binary this host ran, in order."""
        path = self.root / "ran.log"
        return path.read_text().splitlines() if path.exists() else []

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def execs(self) -> int:
        """How many commands sshd started for exec requests (its log does not show their text)."""
        return self.log_text().count("Starting session: command for ")

    def channels(self) -> int:
        """How many session channels clients opened (each command, each SFTP session)."""
        return self.log_text().count("server_input_channel_open: ctype session ")

    def sftp_sessions(self) -> int:
        """How many SFTP sessions sshd started."""
        return self.log_text().count("Starting session: subsystem 'sftp' for ")

    def logins(self) -> int:
        """How many times a client authenticated."""
        return self.log_text().count("Accepted publickey for ")

    def start(self) -> None:
        """Start (or restart) sshd on this host's address and port; waits until it listens."""
        config = self.root / "sshd_config"
        config.write_text(self._config())
        self.log.touch()
        before = len(self.log_text())
        argv = [SSHD, "-D", "-f", str(config), "-E", str(self.log)]
        self.proc = subprocess.Popen(argv, start_new_session=True, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        listening = f"Server listening on {self.host.address} port {self.host.port}"
        while listening not in self.log_text()[before:]:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"sshd did not start on {self.host.name}: {self.log_text()[before:][-800:]}"
                )
            time.sleep(0.01)

    def _config(self) -> str:
        lines = [
            f"Port {self.host.port}",
            f"ListenAddress {self.host.address}",
            f"HostKey {self.root / 'ssh_host_ed25519_key'}",
            f"PidFile {self.root / 'sshd.pid'}",
            f"AuthorizedKeysFile {self.authorized_keys}",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "UsePAM no",
            "StrictModes no",
            "PermitRootLogin prohibit-password",
            "AllowTcpForwarding yes",
            "Subsystem sftp internal-sftp",
            "LogLevel DEBUG1",
            "MaxStartups 200",
            "SetEnv " + " ".join(f'"{item}"' for item in self._env()),
            *self.extra_config,
        ]
        return "\n".join(lines) + "\n"

    def _env(self) -> list[str]:
        base = {
            "PATH": f"{self.bin}:{self.sysbin}",
            "HOME": str(self.home),
            "CML_RUNNER_HOME": str(self.runners),
        }
        return [f"{k}={v}" for k, v in {**base, **self.env}.items()] + [self.marker]

    def rekey(self) -> str:
        """The host is reinstalled: a new host key (returned, as a public key line), sshd restarted."""
        self.kill()
        private, self.host_key = _pair()
        key = self.root / "ssh_host_ed25519_key"
        key.write_text(private)
        key.chmod(0o600)
        self.start()
        return self.host_key

    def kill(self) -> None:
        """The host dies: SIGKILL sshd, every connection's sshd and every command they started."""
        if self.proc is not None:
            _kill([self.proc.pid, *_children(self.proc.pid)])
            self.proc.wait()
        _kill(_marked(self.marker))

    def drop(self) -> None:
        """sshd dies but the host lives: SIGKILL sshd and every connection's sshd; the commands they
        started keep running (as after a network drop). :meth:`start` brings sshd back."""
        if self.proc is not None:
            sshds = [p for p in _children(self.proc.pid) if _comm(p) == "sshd"]
            _kill([self.proc.pid, *sshds])
            self.proc.wait()

    def stop(self) -> None:
        """Stop sshd and end every process this host started (daemons included)."""
        self.kill()
        self.proc = None


@dataclass(kw_only=True)
class Lab:
    """Fake hosts sharing one user key, one authorized_keys and one known_hosts file."""

    root: Path
    sysbin: Path
    hosts_started: list[FakeHost] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(mode=0o755, parents=True, exist_ok=True)
        private, public = _pair()
        self.identity.write_text(private)
        self.identity.chmod(0o600)
        self.identity_text = private
        self.public_key = public
        self.authorized_keys.write_text(public + "\n")
        self.known_hosts.write_text("")

    @property
    def identity(self) -> Path:
        """The lab's private key file (ed25519, OpenSSH format), authorized on every host."""
        return self.root / "id_ed25519"

    @property
    def authorized_keys(self) -> Path:
        return self.root / "authorized_keys"

    @property
    def known_hosts(self) -> Path:
        """A known_hosts file holding the keys of the hosts started with ``known=True``."""
        return self.root / "known_hosts"

    def authorize(self, public: str) -> None:
        """Let another user key (a public key line) log in to every host."""
        with self.authorized_keys.open("a") as out:
            out.write(public.strip() + "\n")

    def host(
        self,
        *,
        arch: str = "x64",
        gpus: int = 0,
        gpu_model: str = GPU_MODEL,
        gpu_memory_mib: int = 40960,
        docker: bool = False,
        systemd: bool = False,
        nvidia_ctk: bool = False,
        busybox: bool = False,
        user: str = "root",
        known: bool = True,
        bins: Mapping[str, str] | None = None,
        extra_config: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> FakeHost:
        """Start one fake host; ``bins`` adds fake binaries (name → sh body) or replaces the defaults."""
        address = f"127.0.0.{next(_addresses) % 250 + 2}"
        root = self.root / f"host-{address}"
        for folder in ("bin", "home"):
            (root / folder).mkdir(mode=0o755, parents=True, exist_ok=True)
        (root / "ran.log").touch(mode=0o666)  # a non-root login user's fakes write to it too
        (root / "ran.log").chmod(0o666)
        if user != "root":
            account = pwd.getpwnam(user)
            os.chown(root / "home", account.pw_uid, account.pw_gid)
        private, public = _pair()
        (root / "ssh_host_ed25519_key").write_text(private)
        (root / "ssh_host_ed25519_key").chmod(0o600)
        fake = FakeHost(
            host=Host(user=user, address=address, port=_free_port(address)),
            root=root,
            host_key=public,
            sysbin=self.sysbin,
            authorized_keys=self.authorized_keys,
            extra_config=tuple(extra_config),
            env=dict(env or {}),
        )
        self._fill_bin(fake, arch, gpus, gpu_model, gpu_memory_mib, docker, systemd, nvidia_ctk, busybox)
        for name, body in (bins or {}).items():
            fake.add_bin(name, body)
        self._start(fake)
        if known:
            self.trust(fake)
        return fake

    @staticmethod
    def _fill_bin(
        fake: FakeHost,
        arch: str,
        gpus: int,
        model: str,
        memory: int,
        docker: bool,
        systemd: bool,
        ctk: bool,
        busybox: bool,
    ) -> None:
        if busybox:
            for applet in _BUSYBOX_APPLETS:
                (fake.bin / applet).symlink_to("/bin/busybox")
        fake.add_bin("uname", _uname(arch))
        if gpus:
            fake.add_bin("nvidia-smi", _nvidia_smi(gpus, model, memory))
        if docker:
            fake.add_bin("docker", _DOCKER)
        if systemd:
            fake.add_bin("systemctl", _SYSTEMCTL)
        if ctk:
            fake.add_bin("nvidia-ctk", 'echo "NVIDIA Container Toolkit CLI version 1.16.2"')

    def _start(self, fake: FakeHost) -> None:
        for _ in range(5):  # another process may take the port between choosing it and sshd binding it
            try:
                fake.start()
                break
            except RuntimeError:
                if "Address already in use" not in fake.log_text():
                    raise
                fake.host = Host(
                    user=fake.host.user, address=fake.host.address, port=_free_port(fake.host.address)
                )
        self.hosts_started.append(fake)

    def hosts(self, n: int, **options: object) -> list[FakeHost]:
        """``n`` fake hosts; an option given as a list gives each host its own value."""
        return [
            self.host(**{k: (v[i] if isinstance(v, list) else v) for k, v in options.items()})  # type: ignore[arg-type]
            for i in range(n)
        ]

    def trust(self, fake: FakeHost, *, hashed: bool = False, key: str | None = None) -> None:
        """Add ``fake``'s key (or ``key``) to known_hosts, under its ``[addr]:port`` name (hashed or not)."""
        import paramiko

        name = f"[{fake.host.address}]:{fake.host.port}"
        shown = paramiko.HostKeys.hash_host(name) if hashed else name
        with self.known_hosts.open("a") as out:
            out.write(f"{shown} {key or fake.host_key}\n")

    def stop(self) -> None:
        for fake in self.hosts_started:
            fake.stop()


def make_sysbin(folder: Path) -> Path:
    """A folder linking every program of the system folders except :data:`HIDDEN` (first one wins)."""
    folder.mkdir(mode=0o755, parents=True, exist_ok=True)
    for system in _SYSTEM_DIRS:
        if not Path(system).is_dir():
            continue
        for entry in os.scandir(system):
            link = folder / entry.name
            if entry.name in HIDDEN or link.exists() or link.is_symlink():
                continue
            link.symlink_to(entry.path)
    return folder


def nonroot_user(name: str = "cml-ssh-test") -> str:
    """A non-root login user for the fake hosts, created (with useradd) only when it does not exist.

    Its password is ``*`` (no password login, but not locked: sshd refuses a locked account, ``!``,
    when it runs without PAM).
    """
    try:
        pwd.getpwnam(name)
    except KeyError:
        argv = ["useradd", "--create-home", "--shell", "/bin/sh", "--password", "*", name]
        subprocess.run(argv, check=True, capture_output=True)
    if name == "cml-ssh-test":
        subprocess.run(["usermod", "--password", "*", name], check=True, capture_output=True)
    return name


def lab_folder() -> Path:
    """A fresh folder every login user can read (sshd reads authorized_keys as the user), 0755."""
    root = Path(tempfile.mkdtemp(prefix="cml-sshd-"))
    root.chmod(0o755)
    return root


def temp_lab() -> Lab:
    """A lab in a fresh temp folder (outside pytest); end it with :func:`remove`."""
    root = lab_folder()
    return Lab(root=root / "lab", sysbin=make_sysbin(root / "sysbin"))


def remove(lab: Lab) -> None:
    lab.stop()
    shutil.rmtree(lab.root.parent, ignore_errors=True)
