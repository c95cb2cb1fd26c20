"""What the controller and the host scripts say to each other, and what the host remembers.

* Runner names: ``cml-<host>-<n>`` by default (``--name NAME`` → ``NAME`` or ``NAME-<n>``); the
  prefix ``cml-`` is what ``gc`` sweeps.
* Parameters go to a script as ``key=value`` lines on its stdin (:func:`stdin_lines`), never argv;
  a value with a line break is refused before anything is sent.
* A script answers ``key=value`` lines on stdout (:func:`parse_lines`), ``error=...`` when it fails.
* ``status.sh`` (``runners/README.md``) prints ``home=BASE``, then per runner ``runner=NAME``, that
  runner's state file and ``alive=yes|no``, and last ``count=N`` (:func:`parse_state`). The survey
  command around it (:mod:`cml.runner.hostops`) adds ``now=`` (the host's clock), ``staging=`` (the
  folder files are put in), ``scripts=ready|missing`` and one ``package=<sha256>`` per package there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from cml.errors import HostError, UsageError

PREFIX = "cml-"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def slug(address: str) -> str:
    """``address`` as it can sit in a runner name: ``10.0.0.7`` → ``10-0-0-7``, ``[::1]`` → ``1``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", address).strip("-").lower() or "host"


def runner_names(address: str, count: int, name: str | None = None) -> tuple[str, ...]:
    """The names of a host's ``count`` runners: ``cml-<slug>-<n>``, or ``name`` / ``name-<n>``.

    Raises UsageError naming ``--name`` when the name is not one GitHub or GitLab accepts.
    """
    if name is not None and not _NAME.match(name):
        raise UsageError(f"--name {name!r}: use letters, digits, '.', '_' and '-' (64 at most)")
    if name is not None and count == 1:
        return (name,)
    base = name if name is not None else f"{PREFIX}{slug(address)}"
    return tuple(f"{base}-{n}" for n in range(1, count + 1))


def belongs(runner: str, address: str, name: str | None = None) -> bool:
    """True when ``runner`` is one of the names :func:`runner_names` gives this host (any count)."""
    base = name if name is not None else f"{PREFIX}{slug(address)}"
    return runner == name or re.fullmatch(re.escape(base) + r"-[0-9]+", runner) is not None


def stdin_lines(params: Mapping[str, str]) -> bytes:
    """``params`` as ``key=value`` lines for a script's stdin.

    Raises HostError for a key that is not a plain word or a value holding a line break or NUL
    (the script reads one parameter a line): it names the key, never the value (it may be a secret).
    """
    out = []
    for key, value in params.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise HostError(f"script parameter {key!r} is not a plain word")
        if any(c in value for c in "\r\n\0"):
            raise HostError(f"script parameter {key!r} holds a line break; nothing was sent")
        out.append(f"{key}={value}\n")
    return "".join(out).encode("utf-8")


def parse_lines(text: str) -> dict[str, str]:
    """The ``key=value`` lines of a script's answer (the last one of a key wins; other lines dropped)."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and re.fullmatch(r"[a-z][a-z0-9_]*", key):
            found[key] = value.strip()
    return found


@dataclass(frozen=True, kw_only=True)
class RunnerState:
    """One runner as the host's state file records it (``BASE/NAME/cml-state``, see runners/README.md)."""

    name: str
    forge: str = ""
    mode: str = ""
    labels: tuple[str, ...] = ()
    id: int | None = None
    running: bool = False  # status.sh's alive=yes: its unit is active or its process is there
    started: int | None = None  # epoch seconds (started_at)
    last_job_end: int | None = None  # epoch seconds (last_job_completed_at, the job-completed hook's)
    idle_timeout: int | None = None  # seconds, as launch --idle-timeout recorded it
    package_sha256: str = ""
    extra: dict[str, str] = field(default_factory=dict)  # user, init, unit, pid, executor, gpu, ...


@dataclass(frozen=True, kw_only=True)
class HostState:
    """What the survey found on a host: its runners, clock, staging folder, scripts and packages there."""

    runners: dict[str, RunnerState] = field(default_factory=dict)
    now: int | None = None  # the host's clock, epoch seconds
    staging: str = ""  # the folder files are put in (absolute)
    home: str = ""  # where the runners live (status.sh's home=)
    scripts_ready: bool = False  # the scripts of this cml version are in the staging folder
    packages: frozenset[str] = frozenset()  # sha256 of each package in the staging folder


_KNOWN = {"forge", "mode", "labels", "id", "alive", "started_at", "last_job_completed_at"}
_KNOWN |= {"idle_timeout", "package_sha256", "name"}
_HOST_KEYS = {"home", "count", "now", "staging", "scripts"}


def parse_state(text: str) -> HostState:
    """Parse the survey's answer: host lines, then one record per runner starting with ``runner=``."""
    host: dict[str, str] = {}
    packages: set[str] = set()
    records: list[dict[str, str]] = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            continue
        if key == "runner":
            records.append({"name": value.strip()})
        elif key == "package":
            packages.add(value.strip())
        elif key in _HOST_KEYS or not records:
            host[key] = value.strip()
        else:
            records[-1][key] = value.strip()
    runners = {r["name"]: _record(r) for r in records if r["name"]}
    return HostState(
        runners=runners,
        now=_int(host.get("now")),
        staging=host.get("staging", ""),
        home=host.get("home", ""),
        scripts_ready=host.get("scripts") == "ready",
        packages=frozenset(packages),
    )


def _record(rec: dict[str, str]) -> RunnerState:
    """One runner's record as a RunnerState (unknown keys kept in ``extra``)."""
    return RunnerState(
        name=rec["name"],
        forge=rec.get("forge", ""),
        mode=rec.get("mode", ""),
        labels=tuple(x for x in rec.get("labels", "").split(",") if x),
        id=_int(rec.get("id")),
        running=rec.get("alive", "") == "yes",
        started=_time(rec.get("started_at")),
        last_job_end=_time(rec.get("last_job_completed_at")),
        idle_timeout=_int(rec.get("idle_timeout")),
        package_sha256=rec.get("package_sha256", ""),
        extra={k: v for k, v in rec.items() if k not in _KNOWN},
    )


def _time(value: str | None) -> int | None:
    """``2026-12-01T15:42:00Z`` (UTC, as the scripts write it) as epoch seconds; None when unreadable."""
    from datetime import UTC, datetime

    try:
        stamp = datetime.strptime(value or "", "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None
    return int(stamp.replace(tzinfo=UTC).timestamp())


def _int(value: str | None) -> int | None:
    """``value`` as an int, None when empty or not a number."""
    return int(value) if value and value.isdigit() else None


_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str, flag: str = "--idle-timeout") -> int:
    """Seconds in ``text``: ``1800`` (seconds, as the action passes it), ``90s``, ``30m``, ``2h``, ``1d``.

    Raises UsageError naming ``flag`` for anything else or for zero.
    """
    match = re.fullmatch(r"\s*([0-9]+)\s*([smhd]?)\s*", text.lower())
    if not match or int(match[1]) == 0:
        raise UsageError(f"{flag} {text!r}: expected a duration such as 1800 (seconds), 30m, 2h or 1d")
    return int(match[1]) * _UNITS[match[2]]
