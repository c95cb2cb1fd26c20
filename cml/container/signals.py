"""Signals and deadlines around a running container: SIGTERM acts like Ctrl-C, cleanup is not interrupted."""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType, TracebackType

from cml.log import logger


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM raise KeyboardInterrupt, so the same cleanup runs.

    SIGINT is handled even when inherited as ignored (a job started with ``&`` in a script).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


@contextmanager
def signals_ignored() -> Iterator[None]:
    """While inside, SIGINT and SIGTERM are ignored: a second Ctrl-C cannot leave a container behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


class Deadline:
    """Call ``kill`` once ``seconds`` have passed (never when ``seconds`` is None); ``fired`` says it did.

    ``fired`` is final once the ``with`` block has exited.
    """

    def __init__(self, seconds: float | None, kill: Callable[[], object]) -> None:
        self.fired = False
        self._kill = kill
        self._timer = threading.Timer(seconds, self._expire) if seconds else None

    def _expire(self) -> None:
        try:
            self._kill()
        except Exception as exc:  # it ended on its own just now: not a timeout
            logger.debug("deadline kill: %s", exc)
            return
        self.fired = True

    def __enter__(self) -> Deadline:
        if self._timer is not None:
            self._timer.daemon = True
            self._timer.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._timer is not None:
            self._timer.cancel()
            # A kill in flight decides ``fired``: wait for it, the container may already be gone.
            self._timer.join()
