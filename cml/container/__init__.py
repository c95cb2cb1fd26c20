"""What ``cml run`` puts into a container: the parsed options and the checks on them (no docker here).

The workspace (the git work tree, else the current directory) is mounted at the same path and the
command runs in the current directory as the caller's uid:gid, so files it writes belong to the caller.
Only variables named with ``--env`` reach the container. :func:`run` takes a :class:`RunRequest` (the
flags as given) and returns the container's exit code; the docker calls live in :mod:`cml.container.engine`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

from cml import git
from cml.errors import CmlError, InputError, UsageError
from cml.log import logger, register_secret

Pull = Literal["missing", "always", "never"]
PULLS: tuple[Pull, ...] = ("missing", "always", "never")

#: ``cml run --timeout`` exit code (the one coreutils ``timeout`` uses).
TIMEOUT_EXIT = 124


class TimedOut(CmlError):
    """The container ran past ``--timeout`` and was killed."""

    exit_code = TIMEOUT_EXIT


class ContainerError(CmlError):
    """The container could not start; the exit code follows the shell's (127 not found, 126 not runnable)."""

    def __init__(self, message: str, *, exit_code: int = 125, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.exit_code = exit_code


@dataclass(frozen=True, kw_only=True)
class Gpus:
    """GPUs to hand the container: ``count`` (-1 = all) or explicit device ids."""

    count: int = 0
    device_ids: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Volume:
    """One ``--volume SRC:DST[:ro]``: a host path (or named volume) mounted at ``target``."""

    source: str
    target: str
    read_only: bool = False


@dataclass(frozen=True, kw_only=True)
class RunSpec:
    """Everything one ``cml run`` needs; built by :func:`make_spec`."""

    image: str
    command: tuple[str, ...]
    workspace: Path
    workdir: Path
    user: str
    env: Mapping[str, str] = field(default_factory=dict)
    volumes: tuple[Volume, ...] = ()
    gpus: Gpus | None = None
    timeout: float | None = None
    network: str | None = None
    pull: Pull = "missing"

    def describe(self) -> str:
        """``IMAGE: CMD`` for messages."""
        return f"{self.image}: {' '.join(self.command)}"


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Names whose values are registered for redaction (and masked on GitHub Actions).
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASS|KEY|CRED|AUTH|PRIVATE|SESSION|COOKIE", re.IGNORECASE)


def parse_command(words: Sequence[str]) -> tuple[str, ...]:
    """The command after ``--``; raises UsageError when there is none (the image's default is not run)."""
    command = tuple(words[1:] if list(words[:1]) == ["--"] else words)
    if not command:
        raise UsageError("cml run: no command given", hint="cml run --image IMAGE [options] -- CMD...")
    return command


def parse_env(items: Sequence[str], caller: Mapping[str, str]) -> dict[str, str]:
    """Turn ``--env NAME`` (the caller's value) / ``--env NAME=VALUE`` into the container's environment.

    Nothing else of the caller's environment is passed. A named variable the caller lacks is left out.
    Values of secret-looking names are registered for redaction. Raises UsageError on a bad name.
    """
    env: dict[str, str] = {}
    for item in items:
        name, eq, value = item.partition("=")
        if not _NAME.fullmatch(name):
            raise UsageError(f"--env {name!r}: not a variable name (use NAME or NAME=VALUE)")
        if not eq:
            if name not in caller:
                logger.info("cml: --env %s: not set here, not passed", name)
                continue
            value = caller[name]
        if _SECRET_NAME.search(name):
            register_secret(value, caller)
        env[name] = value
    # An unknown uid has no home; tools that write caches (pip, matplotlib) need a writable one.
    env.setdefault("HOME", "/tmp")  # noqa: S108 (inside the container)
    return env


def parse_volume(text: str, cwd: Path) -> Volume:
    """Parse ``SRC:DST[:ro|rw]``; a relative or absolute SRC path must exist, a bare name is a named volume."""
    parts = text.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1].startswith("/"):
        raise UsageError(f"--volume {text!r}: expected SRC:DST[:ro] with an absolute DST")
    mode = parts[2] if len(parts) == 3 else "rw"
    if mode not in ("ro", "rw"):
        raise UsageError(f"--volume {text!r}: mode must be ro or rw, not {mode!r}")
    source = parts[0]
    if "/" in source or source.startswith("."):
        path = (cwd / source).resolve()
        if not path.exists():
            raise InputError(f"--volume {text!r}: {path} does not exist")
        source = str(path)
    return Volume(source=source, target=parts[1], read_only=mode == "ro")


def parse_gpus(text: str) -> Gpus:
    """``all``, a count ``N`` or ``device=ID[,ID...]``; raises UsageError otherwise."""
    if text == "all":
        return Gpus(count=-1)
    if text.isdigit() and int(text) > 0:
        return Gpus(count=int(text))
    if text.startswith("device=") and text[len("device=") :]:
        return Gpus(device_ids=tuple(text[len("device=") :].split(",")))
    raise UsageError(f"--gpus {text!r}: use all, a number of GPUs, or device=ID[,ID]")


def workspace(cwd: Path) -> Path:
    """The git work tree holding ``cwd``, else ``cwd`` itself."""
    try:
        return git.toplevel(cwd).resolve()
    except CmlError:
        return cwd.resolve()


def caller_user() -> str:
    """``uid:gid`` of this process: the container writes files as the caller."""
    return f"{os.getuid()}:{os.getgid()}"


@dataclass(frozen=True, kw_only=True)
class RunRequest:
    """``cml run`` as given: the image, the command (a leading ``--`` is dropped), ``env`` items
    ``NAME`` or ``NAME=VALUE``, ``volumes`` ``SRC:DST[:ro]``, ``gpus`` ``all|N|device=ID,...``."""

    image: str
    command: tuple[str, ...]
    env: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    gpus: str | None = None
    timeout: float | None = None
    network: str | None = None
    pull: Pull = "missing"


def make_spec(request: RunRequest, env: Mapping[str, str], cwd: Path) -> RunSpec:
    """The checked :class:`RunSpec` for ``request`` run from ``cwd`` with the caller's ``env``;
    UsageError/InputError naming the option that is wrong."""
    if request.timeout is not None and request.timeout <= 0:
        raise UsageError(f"--timeout {request.timeout:g}: must be more than 0 seconds")
    return RunSpec(
        image=request.image,
        command=parse_command(request.command),
        workspace=workspace(cwd),
        workdir=cwd.resolve(),
        user=caller_user(),
        env=parse_env(request.env, env),
        volumes=tuple(parse_volume(v, cwd) for v in request.volumes),
        gpus=parse_gpus(request.gpus) if request.gpus else None,
        timeout=request.timeout,
        network=request.network,
        pull=request.pull,
    )


def run(
    request: RunRequest, env: Mapping[str, str], out: BinaryIO, err: BinaryIO, cwd: Path | None = None
) -> int:
    """Run ``request`` in a container, streaming its output to ``out``/``err``; return its exit code.

    Raises as :func:`make_spec` for bad options and as :func:`cml.container.engine.run` (ConfigError
    without a daemon, TimedOut 124, ContainerError 126/127, KeyboardInterrupt).
    """
    from cml.container import engine

    spec = make_spec(request, env, cwd or Path.cwd())
    out.flush()
    return engine.run(spec, env, out, err)
