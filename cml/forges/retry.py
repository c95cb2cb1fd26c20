"""The one retry policy for every forge call.

Timeouts, 5xx, 429 and GitHub's secondary rate limits are retried with capped exponential backoff,
honouring ``Retry-After`` / ``X-RateLimit-Reset``. A write that may have landed (its response was
lost) is never repeated blindly: :class:`MaybeWritten` goes up to the caller, which re-reads first.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from cml.errors import ForgeError
from cml.log import logger

T = TypeVar("T")


class Transient(ForgeError):
    """A fault worth retrying. ``retry_after`` is the server's own advice in seconds, if any."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class MaybeWritten(Transient):
    """A write whose outcome is unknown: the request went out but no answer came back."""


@dataclass(frozen=True, kw_only=True)
class Policy:
    """How hard to try: attempts in all, first delay, the cap on any one sleep."""

    attempts: int = 6
    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, advised: float | None) -> float:
        """Seconds to wait before try ``attempt + 1``: the server's advice, else jittered backoff."""
        if advised is not None:
            return min(max(advised, 0.0), self.cap)
        return min(self.cap, self.base * 2**attempt) * (0.5 + random.random() / 2)  # noqa: S311


DEFAULT = Policy()
sleep: Callable[[float], None] = time.sleep  # tests replace it to record the waits


def call(fn: Callable[[], T], *, what: str, policy: Policy = DEFAULT, idempotent: bool = True) -> T:
    """Run ``fn`` until it succeeds, retrying :class:`Transient` faults.

    For non-idempotent writes a :class:`MaybeWritten` is raised at once, so the caller can look for
    what it wrote before trying again.
    """
    for attempt in range(policy.attempts):
        try:
            return fn()
        except Transient as exc:
            if isinstance(exc, MaybeWritten) and not idempotent:
                raise
            last = exc
        if attempt + 1 == policy.attempts:
            break
        wait = policy.delay(attempt, last.retry_after)
        logger.info(
            "%s: %s; retrying in %.1f s (%d/%d)", what, last.message, wait, attempt + 1, policy.attempts
        )
        sleep(wait)
    raise ForgeError(
        f"{what}: gave up after {policy.attempts} attempts: {last.message}", status=last.status
    ) from last
