"""Many hosts at once: bounded parallelism, a timeout per host, progress, one result per host.

Every host finishes (or fails, or times out) whatever the others do; a failure is a result with
``ok=False`` and ``details["exit_code"]``, never an exception. The command's exit code is the worst
host's (:func:`exit_code`): 130 interrupted > 5 token rejected > 4 host or forge > 3 configuration >
2 input > 1 internal error.

Progress: a live table (rich) when stdout is a terminal outside CI, else plain ``host: step`` lines
(no ANSI codes) that read well in a CI log.
"""

from __future__ import annotations

import concurrent.futures as cf
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TextIO

from cml.errors import CmlError, Interrupted, UsageError
from cml.log import redact
from cml.runner import Host, HostResult, provision
from cml.runner.parts import Parts, Step

Action = Callable[[Host, Step], HostResult]

#: Exit codes from worst to mildest; a failed host without one counts as a host error (4).
SEVERITY = (130, 5, 4, 3, 2, 1)
HOST_ERROR = 4


@dataclass(frozen=True, kw_only=True)
class Settings:
    """How the fleet runs: at most ``parallel`` hosts at once, each within ``timeout`` seconds."""

    parallel: int = 4
    timeout: float | None = None
    live: bool = False  # a rich live view (a terminal outside CI) instead of plain lines
    out: TextIO = field(default_factory=lambda: sys.stderr)


class View(Protocol):
    """Where progress goes."""

    def step(self, host: str, text: str) -> None:
        """``host`` starts ``text``."""
        ...

    def done(self, result: HostResult) -> None:
        """``result``'s host finished."""
        ...

    def close(self) -> None:
        """Stop drawing."""
        ...


class PlainView:
    """``host: step`` lines, one per step, flushed at once; thread-safe; never an ANSI code."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()

    def _line(self, text: str) -> None:
        with self._lock:
            self._out.write(redact(text) + "\n")
            self._out.flush()

    def step(self, host: str, text: str) -> None:
        """Print ``host: text``."""
        self._line(f"{host}: {text}")

    def done(self, result: HostResult) -> None:
        """Print ``host: action`` or ``host: failed: message``."""
        self._line(f"{result.host}: {result.action}" + (f": {result.message}" if result.message else ""))

    def close(self) -> None:
        """Nothing to stop."""


def make_view(settings: Settings, hosts: Sequence[Host]) -> View:
    """The live view when ``settings.live`` and rich is installed, else plain lines."""
    if settings.live:
        try:
            from cml.runner.live import LiveView
        except ImportError:  # rich missing: plain lines still work
            return PlainView(settings.out)
        return LiveView(settings.out, [h.name for h in hosts])
    return PlainView(settings.out)


def run(hosts: Sequence[Host], action: Action, settings: Settings) -> list[HostResult]:
    """``action`` on every host, ``settings.parallel`` at a time; results in the order of ``hosts``.

    Ctrl-C: the hosts not started yet are skipped, the running ones stop at their next step and roll
    back; each is then an ``interrupted`` result (exit 130).
    """
    cancel = threading.Event()
    view = make_view(settings, hosts)
    results: dict[int, HostResult] = {}
    try:
        with cf.ThreadPoolExecutor(max_workers=max(1, settings.parallel)) as pool:
            futures = {
                pool.submit(
                    _one,
                    host,
                    action,
                    Step(host=host.name, report=view.step, timeout=settings.timeout, cancel=cancel),
                ): i
                for i, host in enumerate(hosts)
            }
            _collect(futures, results, view, cancel)
    finally:
        view.close()
    for i, host in enumerate(hosts):  # cancelled before they started
        results.setdefault(i, failed(host.name, Interrupted(f"{host.name}: interrupted before it started")))
    return [results[i] for i in range(len(hosts))]


def _collect(
    futures: dict[cf.Future[HostResult], int],
    results: dict[int, HostResult],
    view: View,
    cancel: threading.Event,
) -> None:
    """Wait for every future, showing each result; on Ctrl-C cancel the rest and wait for the running."""
    pending = set(futures)
    while pending:
        try:
            done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
        except KeyboardInterrupt:
            cancel.set()
            pending = {f for f in pending if not f.cancel()}
            continue
        for future in done:
            if not future.cancelled():
                results[futures[future]] = future.result()
                view.done(results[futures[future]])


def _one(host: Host, action: Action, step: Step) -> HostResult:
    """``action(host, step)``, every error turned into a failed result."""
    try:
        step.started = time.monotonic()  # the timeout counts from the host's start, not its queueing
        return action(host, step)
    except CmlError as exc:
        return failed(host.name, exc)
    except Exception as exc:  # a bug: one line, the other hosts go on
        return failed(
            host.name, CmlError(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)")
        )


def failed(host: str, exc: CmlError) -> HostResult:
    """The result of a host that failed with ``exc`` (its message redacted, its exit code kept)."""
    message = redact(str(exc))
    for said in (f"{host}: ", f"host {host}: "):  # the result names the host already
        message = message.removeprefix(said)
    action = "interrupted" if exc.exit_code == 130 else "failed"
    return HostResult(
        host=host, ok=False, action=action, message=message, details={"exit_code": str(exc.exit_code)}
    )


def exit_code(results: Sequence[HostResult]) -> int:
    """0 when every host succeeded, else the worst failed host's exit code (see :data:`SEVERITY`)."""
    codes = {int(r.details.get("exit_code", HOST_ERROR)) for r in results if not r.ok}
    return next((code for code in SEVERITY if code in codes), HOST_ERROR if codes else 0)


def launch(
    hosts: Sequence[Host], opts: provision.LaunchOptions, parts: Parts, settings: Settings
) -> list[HostResult]:
    """:func:`cml.runner.provision.launch` on every host. UsageError: ``--name`` with several hosts."""
    if opts.name is not None and len(hosts) > 1:
        raise UsageError(f"--name {opts.name!r} names one host's runners; {len(hosts)} hosts were given")
    return run(hosts, lambda host, step: provision.launch(host, opts, parts, step), settings)


def status(
    hosts: Sequence[Host], opts: provision.TeardownOptions, parts: Parts, settings: Settings
) -> list[HostResult]:
    """:func:`cml.runner.provision.status` on every host."""
    return run(hosts, lambda host, step: provision.status(host, opts, parts, step), settings)


def teardown(
    hosts: Sequence[Host], opts: provision.TeardownOptions, parts: Parts, settings: Settings
) -> list[HostResult]:
    """:func:`cml.runner.provision.teardown` on every host."""
    return run(hosts, lambda host, step: provision.teardown(host, opts, parts, step), settings)


def gc(
    hosts: Sequence[Host], opts: provision.GcOptions, parts: Parts, settings: Settings
) -> list[HostResult]:
    """The forge's offline ``cml-*`` runners (one result named by the forge's URL), then each host's idle
    runners. UsageError: an idle timeout without hosts (idle time is read on the hosts)."""
    if opts.idle_timeout is not None and not hosts:
        raise UsageError("--idle-timeout needs -H/--host or --inventory: the idle time is read on each host")
    view = PlainView(settings.out)
    try:
        first = provision.gc_offline(
            opts, parts, Step(host="forge", report=view.step, timeout=settings.timeout)
        )
    except CmlError as exc:
        first = failed("forge", exc)
    view.done(first)
    return [first, *run(hosts, lambda host, step: provision.gc(host, opts, parts, step), settings)]


def text(results: Sequence[HostResult]) -> str:
    """The results as text: one line per host, then its runners and details indented."""
    lines = []
    for r in results:
        lines.append(f"{r.host}: {r.action}" + (f" ({r.message})" if r.message and r.ok else ""))
        if r.labels:
            lines.append(f"  labels: {','.join(r.labels)}")
        lines += [f"  {key}: {value}" for key, value in r.details.items() if key != "exit_code"]
    return redact("\n".join(lines))
