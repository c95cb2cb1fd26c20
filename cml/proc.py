"""The one way cml runs a subprocess: logged redacted, checked, output attached to the error."""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from pathlib import Path

from cml.errors import CmlError
from cml.log import logger, redact


class CommandError(CmlError):
    """A subprocess exited non-zero."""

    def __init__(self, argv: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        last = (stderr.strip() or stdout.strip()).splitlines()[-1:] or [""]
        super().__init__(redact(f"`{shlex.join(argv)}` exited {returncode}: {last[0]}"))
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def run(
    argv: Sequence[str],
    *,
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    input: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` and return its completed process; raise :class:`CommandError` on failure."""
    logger.debug("+ %s", redact(shlex.join(argv)))
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=input,
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise CmlError(f"`{argv[0]}` is not installed or not on PATH") from exc
    if check and done.returncode != 0:
        raise CommandError(argv, done.returncode, done.stdout, done.stderr)
    return done


def start(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, quiet: bool = True
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in the background with pipes for stdin and stdout (stderr discarded when ``quiet``,
    else inherited); the caller waits for it. Raises CmlError when ``argv[0]`` is not installed."""
    logger.debug("+ %s &", redact(shlex.join(argv)))
    try:
        return subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL if quiet else None,
        )
    except FileNotFoundError as exc:
        raise CmlError(f"`{argv[0]}` is not installed or not on PATH") from exc


#: Where Linux shows its processes.
PROC = Path("/proc")


def stat(pid: int, root: Path = PROC) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` from the state on (field 3: ``[state, ppid, ...]``); None when
    it cannot be read. ``comm`` (field 2) may hold spaces and parentheses: the fields follow its last ")"."""
    try:
        text = (root / str(pid) / "stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 1 :].split()


def parents() -> dict[int, int]:
    """Every process's parent pid, from ``/proc/<pid>/stat`` (Linux; empty elsewhere)."""
    found = {}
    for entry in PROC.glob("[0-9]*/stat"):
        pid = int(entry.parent.name)
        fields = stat(pid)
        if fields and len(fields) > 1 and fields[1].isdigit():
            found[pid] = int(fields[1])
    return found


def running(pid: int) -> bool:
    """Whether ``pid`` still runs: it exists and is not a zombie (dead, not yet reaped)."""
    fields = stat(pid)
    return bool(fields and fields[0] != "Z")


def kill(pids: set[int], *, wait: float = 0.0) -> None:
    """SIGKILL each of ``pids`` (gone already is fine); then, for at most ``wait`` seconds, wait until
    none of them runs any more."""
    for pid in pids:
        with suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + wait
    while wait and any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.002)


def children(pid: int | None = None) -> set[int]:
    """The pids of ``pid``'s children (default: this process's)."""
    me = os.getpid() if pid is None else pid
    return {child for child, parent in parents().items() if parent == me}


def descendants(roots: set[int]) -> set[int]:
    """``roots`` and every process below them (one reading of ``/proc``)."""
    tree, found = parents(), set(roots)
    grew = True
    while grew:
        below = {pid for pid, parent in tree.items() if parent in found} - found
        found |= below
        grew = bool(below)
    return found
