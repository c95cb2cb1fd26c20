"""The child process that runs TensorFlow and ai-edge-litert for ``cml bench``, and its parent side.

``python -m cml.bench._child`` reads one JSON job on stdin, points its own stdout and stderr (file
descriptors 1 and 2, so C++ and raw prints land there too) at the job's log file, and writes JSON lines
on a copy of the original stdout: ``start`` and ``done`` per item (a variant, or ``original``), or one
``fatal`` event. A crash (segfault, out of memory) ends the child mid-item; :func:`run_items` keeps what
finished, marks the item it crashed on and restarts without it.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from cml.errors import CmlError, ConfigError, InputError

Event = dict[str, Any]
INSTALL = "pip install 'cml-suite[bench]'"
#: Names of variables a child never needs; a model may run Python code when loaded.
_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "PRIVATE", "JITCONFIG")


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What the child runs said: ``done`` events by item, and crash messages by item."""

    done: dict[str, Event] = field(default_factory=dict)
    crashed: dict[str, str] = field(default_factory=dict)


def require(module: str, what: str) -> None:
    """ConfigError (exit 3) naming the bench extra when ``module`` cannot be imported here."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ConfigError(f"{what} needs the Python package {module!r}, which is not installed", hint=INSTALL)


def run_items(job: Event, items: Sequence[str], log: Path, what: str) -> Outcome:
    """Run ``job`` over ``items`` in children until each is done or crashed one.

    Raises the child's ``fatal`` event as its error (:func:`raise_fatal`), and CmlError naming ``log``
    when a child dies before it starts an item.
    """
    outcome = Outcome()
    left = list(items)
    while left:
        events, died = _run({**job, "items": left}, log)
        for event in events:
            if event["event"] == "fatal":
                raise_fatal(event, log)
            if event["event"] == "done":
                outcome.done[event["item"]] = event
        started = [e["item"] for e in events if e["event"] == "start"]
        pending = [item for item in started if item not in outcome.done]
        if died and not started:
            raise CmlError(f"{what}: {died} before it began; its output is in {log}")
        if died and pending:
            outcome.crashed[pending[-1]] = f"{died}; its output is in {log}"
        left = [i for i in left if i not in outcome.done and i not in outcome.crashed]
        if not died:
            break  # a clean end: whatever is left was not asked for by the job
    return outcome


def raise_fatal(event: Event, log: Path) -> None:
    """Raise the error a ``fatal`` event describes: input (exit 2), config (exit 3), else CmlError."""
    message = str(event.get("message", "failed"))
    hint = event.get("hint") or None
    kind = event.get("kind")
    if kind == "input":
        raise InputError(message, hint=hint)
    if kind == "config":
        raise ConfigError(message, hint=INSTALL)
    raise CmlError(f"{message}; the full output is in {log}")


def _run(job: Event, log: Path) -> tuple[list[Event], str]:
    """One child run: its events and, when it did not exit cleanly, how it died."""
    from cml import proc

    log.parent.mkdir(parents=True, exist_ok=True)
    done = proc.run(
        [sys.executable, "-m", "cml.bench._child"],
        input=json.dumps({**job, "log": str(log)}),
        env=child_env(os.environ),
        check=False,
    )
    events = [event for line in done.stdout.splitlines() if (event := _event(line)) is not None]
    finished = any(e["event"] in {"end", "fatal"} for e in events)
    return events, "" if done.returncode == 0 and finished else _death(done.returncode)


def _event(line: str) -> Event | None:
    """One result line as an event; None for anything else (a line cut short by a crash)."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    return event if isinstance(event, dict) and isinstance(event.get("event"), str) else None


def _death(returncode: int) -> str:
    """How a child that did not finish died, in words."""
    if returncode < 0 or returncode in {128 + signal.SIGKILL, 128 + signal.SIGSEGV}:
        number = -returncode if returncode < 0 else returncode - 128
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else str(number)
        why = " (out of memory?)" if number == signal.SIGKILL else ""
        return f"the child process crashed with {name}{why}"
    return f"the child process exited {returncode}"


def child_env(env: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """``env`` less anything secret-looking, with TensorFlow's INFO logs and the GPU off by default."""
    kept = {k: v for k, v in env.items() if not any(w in k.upper() for w in _SECRET_WORDS)}
    kept.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    kept.setdefault("CUDA_VISIBLE_DEVICES", "-1")  # converting needs no GPU; starting one takes seconds
    return kept


# ---- the child side ------------------------------------------------------------------------------


def emit(out: TextIO, event: str, **fields: Any) -> None:
    """Write one event line on the result channel and flush it (a crash keeps what came before)."""
    out.write(json.dumps({"event": event, **fields}) + "\n")
    out.flush()


def each(out: TextIO, items: Sequence[str], work: Callable[[str], Event]) -> None:
    """Announce each item, run ``work`` on it, and report what it returned as the item's ``done``."""
    for item in items:
        emit(out, "start", item=item)
        emit(out, "done", item=item, **work(item))


def _redirect(log: str) -> TextIO:
    """Point fds 1 and 2 at ``log`` (appended); return a stream on the original stdout."""
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    return out


def main() -> int:
    """Run the job on stdin (``convert`` or ``predict``); every failure becomes a ``fatal`` event."""
    import faulthandler
    import traceback

    job = json.loads(sys.stdin.read())
    out = _redirect(job["log"])
    faulthandler.enable()  # a segfault's stack goes to the log
    print(f"== cml bench {job['job']}: {', '.join(job['items'])} {job.get('model', '')}", flush=True)
    try:
        if job["job"] == "convert":
            from cml.bench._convert import run
        else:
            from cml.bench._predict import run
        run(job, out)
    except InputError as exc:
        emit(out, "fatal", kind="input", message=exc.message, hint=exc.hint or "")
    except ConfigError as exc:
        emit(out, "fatal", kind="config", message=exc.message)
    except Exception as exc:
        traceback.print_exc()
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        emit(out, "fatal", kind="other", message=f"{job.get('model', '')}: {type(exc).__name__}: {first}")
    else:
        emit(out, "end")
    return 0


if __name__ == "__main__":
    status = main()
    sys.stdout.flush()
    sys.stderr.flush()
    # Every result is written and flushed: skip the interpreter's teardown, which for a process that
    # loaded TensorFlow takes a second or more on the parent's path.
    os._exit(status)
