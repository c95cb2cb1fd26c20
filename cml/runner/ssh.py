"""SSH to a provisioned host with paramiko: a verified host key, one identity, no prompts.

:func:`connect` returns an :class:`SshMachine` (the :class:`cml.runner.Machine` of a host). Nothing is
sent to a host before its key is verified: against the key the inventory pins for it (only that key),
else against ``--known-hosts FILE`` in OpenSSH's format (hashed names, ``[host]:port`` names and
``@revoked`` lines, patterns included, are understood; wildcard patterns and ``@cert-authority``
lines never make a key trusted). ``--accept-new`` records a key for a host that has none (appended to
the file, its fingerprint logged); a host whose key differs from the one trusted is refused with or
without it.

The identity is a private key file or the key text itself (``CML_SSH_KEY``): ed25519, ecdsa or rsa,
never written to disk. No agent, no ``~/.ssh/id_*`` lookup, no password, no passphrase prompt.

Exit codes of the errors raised here:

* 2 (InputError): the identity (file or ``CML_SSH_KEY``) is unreadable, encrypted or not a private key;
  the known_hosts file is not a readable regular file.
* 3 (ConfigError): no identity was given; :class:`UnknownHostKey`, the host offered a key nothing
  trusts yet (trusting it is configuration: known_hosts, the inventory's ``host_key``, or --accept-new).
* 4 (HostError): the host is unreachable or refused our key; :class:`ChangedHostKey`, it offered a
  key other than the one trusted (or a revoked one); a command ran past its timeout (it is killed);
  the connection was lost (the message names the host).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import logging
import os
import posixpath
import re
import secrets
import select
import shlex
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from cml.errors import CmlError, ConfigError, HostError, InputError
from cml.log import logger, redact, register_secret
from cml.runner import Done, Host

if TYPE_CHECKING:
    import paramiko

#: A known_hosts file of a busy bastion is a few MB.
KNOWN_HOSTS_CAP = 16_000_000
#: An rsa-16384 private key is about 12 kB.
KEY_CAP = 64_000
#: What a remote command may print on each of stdout and stderr before it is killed.
OUTPUT_CAP = 16_000_000
_CHUNK = 32_768
_records = threading.Lock()


class UnknownHostKey(ConfigError):
    """The host offered a key that neither known_hosts nor the inventory trusts (exit 3)."""


class ChangedHostKey(HostError):
    """The host offered a key other than the trusted one, or a revoked one (exit 4)."""


def default_known_hosts() -> Path:
    """``~/.ssh/known_hosts``, as OpenSSH's client uses it."""
    return Path.home() / ".ssh" / "known_hosts"


def identity_from(flag: str | None, env: Mapping[str, str]) -> str | None:
    """The identity to use: ``--identity FILE``, else the key text in ``CML_SSH_KEY`` (registered as a
    secret so it is redacted and, on GitHub Actions, masked), else None."""
    if flag:
        return flag
    text = env.get("CML_SSH_KEY", "").strip()
    if not text:
        return None
    register_secret(text, env)
    for line in text.splitlines():  # each line of a PEM key too, so no part of it shows either
        if len(line) >= 16 and "PRIVATE KEY" not in line:
            register_secret(line.strip(), env)
    return text


@dataclass(frozen=True, kw_only=True)
class _Trust:
    """What is trusted for one host: its known_hosts name, keys and revoked keys, and where from."""

    name: str  # "addr" on port 22, else "[addr]:port" (OpenSSH's known_hosts names)
    keys: tuple[paramiko.PKey, ...]
    revoked: frozenset[str]  # "TYPE BASE64"
    source: str  # "known_hosts FILE" or "the inventory's host_key"
    file: Path | None  # where --accept-new records a key; None when pinned


def known_hosts_name(host: Host) -> str:
    """The name OpenSSH gives ``host`` in known_hosts: ``addr`` on port 22, else ``[addr]:port``."""
    return host.address if host.port == 22 else f"[{host.address}]:{host.port}"


def _trust(host: Host, known_hosts: Path) -> _Trust:
    """The keys trusted for ``host``: its pinned key, else its entries in ``known_hosts`` (absent: none)."""
    import paramiko

    name = known_hosts_name(host)
    if host.host_key:
        kind, data = host.host_key.split()[:2]
        try:
            pinned = paramiko.PKey.from_type_string(kind, base64.b64decode(data))
        except Exception:  # hosts.py checked the shape; the key material itself may still be bad
            raise InputError(f"host {host.name}: host_key: not a valid {kind} public key") from None
        return _Trust(
            name=name, keys=(pinned,), revoked=frozenset(), source="the inventory's host_key", file=None
        )
    from cml.files import Missing, read_text

    try:
        text = read_text(known_hosts, KNOWN_HOSTS_CAP, str(known_hosts))
    except Missing:
        text = ""
    keys: list[paramiko.PKey] = []
    revoked: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        if fields[0] == "@revoked" and len(fields) >= 4 and _names_match(fields[1], name, patterns=True):
            revoked.add(f"{fields[2]} {fields[3]}")
        elif not fields[0].startswith("@") and len(fields) >= 3 and _names_match(fields[0], name):
            key = _entry_key(line, number)
            if key is not None:
                keys.append(key)
    trusted = tuple(k for k in keys if f"{k.get_name()} {k.get_base64()}" not in revoked)
    return _Trust(
        name=name,
        keys=trusted,
        revoked=frozenset(revoked),
        source=f"known_hosts {known_hosts}",
        file=known_hosts,
    )


def _names_match(names: str, name: str, *, patterns: bool = False) -> bool:
    """Whether a known_hosts names field (comma-separated, or one ``|1|salt|hmac``) names ``name``.

    Wildcards (``*``, ``?``) count only with ``patterns`` (for ``@revoked``: refusing more is safe).
    """
    if names.startswith("|1|"):
        parts = names.split("|")
        if len(parts) != 4:
            return False
        salt, digest = parts[2], parts[3]
        try:
            raw_salt, raw_digest = (
                base64.b64decode(salt, validate=True),
                base64.b64decode(digest, validate=True),
            )
        except ValueError:
            return False
        mac = hmac.new(raw_salt, name.encode(), hashlib.sha1).digest()
        return hmac.compare_digest(mac, raw_digest)
    listed = names.split(",")
    if patterns:
        return any(_glob(p).fullmatch(name) for p in listed if not p.startswith("!"))
    return name in listed


def _glob(pattern: str) -> re.Pattern[str]:
    """An OpenSSH host pattern: ``*`` and ``?`` are wildcards, everything else (``[`` too) is itself."""
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."))


def _entry_key(line: str, number: int) -> paramiko.PKey | None:
    """The key of one known_hosts line, or None for a type paramiko does not know or a broken line
    (OpenSSH skips those too)."""
    from paramiko.hostkeys import HostKeyEntry

    try:
        entry = HostKeyEntry.from_line(line, number)
    except Exception:  # a hostile or broken line must not stop the others from being read
        logger.debug("known_hosts line %d: unreadable, skipped", number)
        return None
    return entry.key if entry is not None else None


def _key_line(key: paramiko.PKey) -> str:
    return f"{key.get_name()} key {key.fingerprint}"


def _unknown(host: Host, trust: _Trust, key: paramiko.PKey) -> UnknownHostKey:
    return UnknownHostKey(
        f"host {host.name} offered an unknown {_key_line(key)}",
        hint=f"add it to {trust.file or 'known_hosts'}, pin it in the inventory, or pass --accept-new",
    )


def _changed(host: Host, trust: _Trust, key: paramiko.PKey, expected: paramiko.PKey | None) -> ChangedHostKey:
    if f"{key.get_name()} {key.get_base64()}" in trust.revoked:
        return ChangedHostKey(f"host {host.name} offered {_key_line(key)}, revoked in {trust.source}")
    wanted = _key_line(expected) if expected is not None else "another key"
    return ChangedHostKey(
        f"host {host.name} offered {_key_line(key)}, but {trust.source} expects {wanted}",
        hint=f"if the host was reinstalled, remove the old key (ssh-keygen -R '{trust.name}'); "
        "--accept-new never replaces a key",
    )


def _record(trust: _Trust, host: Host, key: paramiko.PKey) -> None:
    """Append ``key`` for ``host`` to the known_hosts file (created 0600 in a 0700 folder)."""
    assert trust.file is not None
    trust.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = f"{trust.name} {key.get_name()} {key.get_base64()}\n".encode()
    with _records:
        fd = os.open(trust.file, os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line
            os.write(fd, line)
        finally:
            os.close(fd)
    logger.info("host %s: recorded its new %s in %s (--accept-new)", host.name, _key_line(key), trust.file)


def _policy(host: Host, trust: _Trust, accept_new: bool) -> paramiko.MissingHostKeyPolicy:
    """Called by paramiko when nothing is trusted for the host: refuse (as paramiko's RejectPolicy, with
    the offered fingerprint), or with ``accept_new`` record the new key."""
    import paramiko

    class _Policy(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
            if trust.revoked and f"{key.get_name()} {key.get_base64()}" in trust.revoked:
                raise _changed(host, trust, key, None)
            if not accept_new or trust.file is None:
                raise _unknown(host, trust, key)
            _record(trust, host, key)

    return _Policy()


def load_key(identity: str) -> paramiko.PKey:
    """The private key of ``identity``: the key text itself (it holds ``PRIVATE KEY-----``), else the
    path of a key file. Raises InputError (exit 2) naming ``CML_SSH_KEY`` or the file, never the key."""
    import paramiko

    if "PRIVATE KEY-----" in identity:
        what, text = "CML_SSH_KEY", identity.replace("\r\n", "\n").strip() + "\n"
    else:
        from cml.files import read_text

        what = identity
        text = read_text(Path(identity).expanduser(), KEY_CAP, identity)
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(text))
        except paramiko.PasswordRequiredException:
            raise InputError(
                f"{what}: the private key is encrypted; cml never asks for a passphrase",
                hint="use a key without a passphrase, kept in a CI secret",
            ) from None
        except Exception:  # each parser rejects the other kinds in its own way
            logger.debug("%s: not a %s", what, kind.__name__)
    raise InputError(f"{what}: not an ed25519, ecdsa or rsa private key (OpenSSH or PEM format)")


def connect(
    host: Host, *, identity: str | None, known_hosts: Path, accept_new: bool = False, timeout: float = 15
) -> SshMachine:
    """A connection to ``host`` (through its jump host when it has one), both host keys verified first.

    ``identity`` is used where ``host.key`` is None. Raises as the module docstring says.
    """
    jump = _open(host.jump, None, identity, known_hosts, accept_new, timeout) if host.jump else None
    try:
        sock = _through(jump, host, timeout) if jump is not None else None
        client = _open(host, sock, identity, known_hosts, accept_new, timeout)
    except BaseException:
        if jump is not None:
            jump.close()
        raise
    return SshMachine(host=host, client=client, jump=jump, timeout=timeout)


def _through(jump: paramiko.SSHClient, host: Host, timeout: float) -> paramiko.Channel:
    """A ``direct-tcpip`` channel from the jump host to ``host`` (ProxyJump)."""
    import paramiko

    transport = jump.get_transport()
    assert transport is not None
    try:
        return transport.open_channel(
            "direct-tcpip", (host.address, host.port), ("127.0.0.1", 0), timeout=timeout
        )
    except (paramiko.SSHException, OSError, EOFError) as exc:
        via = host.jump.name if host.jump else "?"
        raise HostError(
            f"host {host.name}: the jump host {via} cannot reach it: {_one_line(str(exc))}"
        ) from None


def _open(
    host: Host, sock: Any, identity: str | None, known_hosts: Path, accept_new: bool, timeout: float
) -> paramiko.SSHClient:
    """An authenticated client for ``host`` over ``sock`` (None: a TCP connection)."""
    import paramiko

    _quiet_paramiko()
    chosen = host.key or identity
    if not chosen:
        raise ConfigError(
            "no SSH identity", hint="pass --identity KEY_FILE or set CML_SSH_KEY to the private key"
        )
    key = load_key(chosen)
    trust = _trust(host, known_hosts)
    client = paramiko.SSHClient()
    for trusted in trust.keys:
        client.get_host_keys().add(trust.name, trusted.get_name(), trusted)
    client.set_missing_host_key_policy(_policy(host, trust, accept_new))
    try:
        client.connect(
            host.address,
            port=host.port,
            username=host.user,
            pkey=key,
            sock=sock,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            channel_timeout=timeout,
            allow_agent=False,
            look_for_keys=False,
        )
    except BaseException as exc:
        client.close()
        if isinstance(exc, paramiko.BadHostKeyException):
            raise _changed(host, trust, exc.key, exc.expected_key) from None
        raise _connect_error(host, exc, timeout) from None
    transport = client.get_transport()
    if transport is not None:
        transport.set_keepalive(15)
    return client


def _quiet_paramiko() -> None:
    """paramiko logs a lost connection as ERROR with a traceback from its own thread; cml reports it
    once, as one line. Its log is kept for ``--debug``."""
    debug = logger.isEnabledFor(logging.DEBUG)
    logging.getLogger("paramiko").setLevel(logging.DEBUG if debug else logging.CRITICAL + 1)


def _connect_error(host: Host, exc: BaseException, timeout: float) -> BaseException:
    """The error to show for ``exc`` raised while connecting (ours and Ctrl-C pass unchanged)."""
    import paramiko

    if isinstance(exc, CmlError | KeyboardInterrupt) or not isinstance(exc, Exception):
        return exc
    if isinstance(exc, paramiko.AuthenticationException):
        return HostError(
            f"host {host.name} refused our key for user {host.user}",
            hint=f"add the identity's public key to ~{host.user}/.ssh/authorized_keys on the host",
        )
    if isinstance(exc, socket.timeout | TimeoutError):
        return HostError(f"host {host.name}: no answer within {timeout:g} s")
    if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError | OSError):
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return HostError(f"host {host.name} is unreachable: {reason}")
    return HostError(f"host {host.name}: SSH failed: {_one_line(str(exc) or type(exc).__name__)}")


def _one_line(text: str, limit: int = 200) -> str:
    line = " ".join(text.split())
    return redact(line if len(line) <= limit else line[: limit - 1] + "…")


class SshMachine:
    """A connected host (:class:`cml.runner.Machine`); a context manager that closes the connection."""

    def __init__(
        self, *, host: Host, client: paramiko.SSHClient, jump: paramiko.SSHClient | None, timeout: float
    ) -> None:
        self.host = host
        self._client = client
        self._jump = jump
        self._timeout = timeout
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> SshMachine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and the jump host's (safe to call twice, and from another thread)."""
        for closable in (self._sftp, self._client, self._jump):
            if closable is not None:
                closable.close()

    def _lost(self, what: str) -> HostError:
        return HostError(f"host {self.host.name}: connection lost {what}")

    def run(self, command: str, *, stdin: bytes = b"", timeout: float | None = None) -> Done:
        """Run ``command`` with ``sh`` (one exec channel), feeding it ``stdin``; its exit code and output.

        A command still running after ``timeout`` seconds is killed with its process group (over a
        second channel: sshd runs each command in its own session, whose leader told us its pid) and
        HostError raised; so is a lost connection. A command killed by a signal on the host has code
        -1 (sshd sends no exit status then).
        """
        import paramiko

        shown = f"`{_one_line(command, 60)}`"
        logger.debug("host %s: run %s", self.host.name, shown)
        transport = self._client.get_transport()
        try:
            if transport is None or not transport.is_active():
                raise EOFError
            channel = transport.open_session(timeout=self._timeout)
            try:
                channel.exec_command(_wrap(command))
                out, err = self._exchange(channel, stdin, timeout, shown)
                code = channel.recv_exit_status()
            finally:
                channel.close()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            if isinstance(exc, paramiko.ChannelException):
                raise HostError(f"host {self.host.name}: cannot open a session: {exc}") from None
            raise self._lost(f"running {shown}") from None
        if code == -1 and not transport.is_active():
            raise self._lost(f"running {shown}")
        return Done(code=code, out=out.decode("utf-8", "replace"), err=err.decode("utf-8", "replace"))

    def _exchange(
        self, channel: paramiko.Channel, stdin: bytes, timeout: float | None, shown: str
    ) -> tuple[bytes, bytes]:
        """Send ``stdin`` and read both streams until the command exits; kill it past ``timeout``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        todo = memoryview(stdin)
        out, err = bytearray(), bytearray()
        pid: int | None = None
        if not todo:
            channel.shutdown_write()
        while True:
            if todo and channel.send_ready():
                todo = todo[channel.send(bytes(todo[:_CHUNK])) :]
                if not todo:
                    channel.shutdown_write()
            while channel.recv_ready():
                out += channel.recv(_CHUNK)
            while channel.recv_stderr_ready():
                err += channel.recv_stderr(_CHUNK)
                if pid is None:
                    pid = _take_pid(err)
            if len(out) > OUTPUT_CAP or len(err) > OUTPUT_CAP:
                self._kill(channel, pid)
                raise HostError(
                    f"host {self.host.name}: {shown} printed over {OUTPUT_CAP // 1_000_000} MB; killed"
                )
            if channel.closed or (channel.exit_status_ready() and channel.eof_received):
                if not (channel.recv_ready() or channel.recv_stderr_ready()):
                    return bytes(out), bytes(err)
                continue
            if deadline is not None and time.monotonic() > deadline:
                self._kill(channel, pid)
                raise HostError(f"host {self.host.name}: {shown} did not finish within {timeout:g} s; killed")
            select.select([channel], [], [], 0.05 if todo else 0.5)

    def _kill(self, channel: paramiko.Channel, pid: int | None) -> None:
        """Close ``channel`` and SIGKILL the process group ``pid`` leads, from a second channel."""
        import paramiko

        channel.close()
        transport = self._client.get_transport()
        if not pid or transport is None:
            return
        try:
            killer = transport.open_session(timeout=self._timeout)
            killer.exec_command(f"exec sh -c 'kill -9 -{pid} || kill -9 {pid}' 2>/dev/null")
            killer.status_event.wait(self._timeout)
            killer.close()
        except (paramiko.SSHException, EOFError, OSError):
            logger.debug("host %s: could not kill process group %d", self.host.name, pid)

    def _sftp_client(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = self._client.open_sftp()
            self._sftp.get_channel().settimeout(self._timeout)  # type: ignore[union-attr]
        return self._sftp

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        """Write ``data`` to ``path`` over SFTP: a new temp file beside it, ``chmod`` before any byte is
        written, then renamed over ``path`` (posix-rename@openssh.com). Raises HostError naming the
        host and the path; the temp file is removed on failure."""
        import paramiko

        folder, base = posixpath.split(path)
        temp = posixpath.join(folder, f".{base}.{secrets.token_hex(6)}.cml-tmp")
        try:
            sftp = self._sftp_client()
        except (paramiko.SSHException, EOFError, OSError) as exc:
            raise HostError(f"host {self.host.name}: cannot start SFTP: {_one_line(str(exc))}") from None
        try:
            with sftp.open(temp, "wbx") as remote:
                sftp.chmod(temp, mode)
                remote.set_pipelined(True)
                for start in range(0, len(data), _CHUNK):
                    remote.write(data[start : start + _CHUNK])
            sftp.posix_rename(temp, path)
        except (paramiko.SSHException, EOFError, OSError) as exc:
            self._discard(sftp, temp)
            if isinstance(exc, OSError) and not isinstance(exc, socket.timeout | TimeoutError):
                reason = exc.strerror or str(exc) or type(exc).__name__
                raise HostError(f"host {self.host.name}: cannot write {path}: {reason}") from None
            raise self._lost(f"writing {path}") from None
        logger.debug("host %s: wrote %s (%d bytes, mode %o)", self.host.name, path, len(data), mode)

    @staticmethod
    def _discard(sftp: paramiko.SFTPClient, temp: str) -> None:
        try:
            sftp.remove(temp)
        except Exception:  # the connection may be gone; nothing more to do
            logger.debug("could not remove %s", temp)


#: Commands run under sh, which first tells its pid on stderr: sshd starts each command in a session
#: of its own (setsid), so that pid names the process group to kill when the command overruns.
_WRAPPER = 'echo "cml-pid=$$" >&2; exec sh -c "$1"'
_PID_LINE = re.compile(rb"(?:\A|(?<=\n))cml-pid=(\d+)\n")
#: Login-shell noise (a profile's warning) may come first; past this much, give up looking.
_PID_WITHIN = 65_536


def _wrap(command: str) -> str:
    """``command`` for the login shell (any: sh, bash, zsh, csh, fish): run by sh, pid first."""
    return f"exec sh -c {shlex.quote(_WRAPPER)} sh {shlex.quote(command)}"


def _take_pid(err: bytearray) -> int | None:
    """The wrapper's pid line in ``err``, cut out of it; None while it may still come, 0 when it will not
    (the command's own stderr follows the line, so the first one found is the wrapper's)."""
    found = _PID_LINE.search(err)
    if found is None:
        return 0 if len(err) > _PID_WITHIN else None
    pid = int(found.group(1))  # before the cut: the match reads the buffer it was made on
    del err[found.start() : found.end()]
    return pid
