"""The one way cml runs a subprocess: logged redacted, checked, output attached to the error."""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping, Sequence
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
