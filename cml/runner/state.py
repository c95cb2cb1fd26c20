"""What the controller and the host scripts say to each other, and what the host remembers.

* Runner names: ``cml-<host>-<n>`` by default (``--name NAME`` → ``NAME`` or ``NAME-<n>``); the
  prefix ``cml-`` is what ``gc`` sweeps.
* Parameters go to a script as ``key=value`` lines on its stdin (:func:`stdin_lines`), never argv;
  a value with a line break is refused before anything is sent.
* A script answers ``key=value`` lines on stdout (:func:`parse_lines`), ``error=...`` when it fails.
* ``status.sh`` prints the host's state: one record per runner, each starting with ``name=``
  (:func:`parse_state`), plus ``now=`` (the host's clock) and ``staging=`` (where files are put).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cml.errors import HostError, UsageError

PREFIX = "cml-"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$")


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


def check_labels(labels: Iterable[str], where: str = "--labels") -> tuple[str, ...]:
    """``labels`` without blanks and duplicates, order kept; UsageError naming ``where`` for a bad one."""
    seen: dict[str, None] = {}
    for label in (item.strip() for item in labels):
        if not label:
            continue
        if not _LABEL.match(label):
            raise UsageError(f"{where}: label {label!r}: use letters, digits and . _ : + - (128 at most)")
        seen.setdefault(label, None)
    return tuple(seen)


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
    """One runner as the host's state file records it."""

    name: str
    forge: str = ""
    mode: str = ""
    labels: tuple[str, ...] = ()
    url: str = ""
    id: int | None = None
    version: str = ""
    running: bool = False
    started: int | None = None  # epoch seconds the runner was started
    last_job_end: int | None = None  # epoch seconds, written by the job-completed hook
    idle_timeout: int | None = None  # seconds, as launch --idle-timeout recorded it
    path: str = ""  # the state file, when status.sh names it
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class HostState:
    """What ``status.sh`` found on a host."""

    runners: dict[str, RunnerState] = field(default_factory=dict)
    now: int | None = None  # the host's clock, epoch seconds
    staging: str = ""  # the folder files are put in (absolute)


_KNOWN = {"forge", "mode", "labels", "url", "id", "version", "running", "started", "last_job_end"}
_KNOWN |= {"idle_timeout", "state"}


def parse_state(text: str) -> HostState:
    """Parse ``status.sh``'s answer: host lines, then one record per runner starting with ``name=``."""
    host: dict[str, str] = {}
    records: list[dict[str, str]] = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            continue
        if key == "name":
            records.append({})
        (records[-1] if records else host)[key] = value.strip()
    runners = {r["name"]: _record(r) for r in (dict(rec, name=rec.get("name", "")) for rec in records)}
    runners.pop("", None)
    return HostState(runners=runners, now=_int(host.get("now")), staging=host.get("staging", ""))


def _record(rec: dict[str, str]) -> RunnerState:
    """One runner's record as a RunnerState (unknown keys kept in ``extra``)."""
    return RunnerState(
        name=rec["name"],
        forge=rec.get("forge", ""),
        mode=rec.get("mode", ""),
        labels=tuple(x for x in rec.get("labels", "").split(",") if x),
        url=rec.get("url", ""),
        id=_int(rec.get("id")),
        version=rec.get("version", ""),
        running=rec.get("running", "") in ("1", "yes", "true"),
        started=_int(rec.get("started")),
        last_job_end=_int(rec.get("last_job_end")),
        idle_timeout=_int(rec.get("idle_timeout")),
        path=rec.get("state", ""),
        extra={k: v for k, v in rec.items() if k not in _KNOWN and k != "name"},
    )


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
