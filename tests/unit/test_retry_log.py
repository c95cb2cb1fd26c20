"""The retry policy and secret redaction."""

from __future__ import annotations

import io
import logging

import pytest

from cml import log
from cml.errors import ForgeError
from cml.forges import retry


def _flaky(faults: list[Exception]) -> object:
    def fn() -> str:
        if faults:
            raise faults.pop(0)
        return "ok"

    return fn


def test_retries_and_honours_retry_after(sleeps: list[float]) -> None:
    fn = _flaky([retry.Transient("429", status=429, retry_after=7), retry.Transient("502", status=502)])
    assert retry.call(fn, what="GET x") == "ok"  # type: ignore[arg-type]
    assert sleeps[0] == 7
    assert 0.5 <= sleeps[1] <= 2.0


def test_retry_after_is_capped(sleeps: list[float]) -> None:
    fn = _flaky([retry.Transient("429", retry_after=3600)])
    retry.call(fn, what="GET x", policy=retry.Policy(cap=30))  # type: ignore[arg-type]
    assert sleeps == [30]


def test_maybe_written_is_not_retried_for_non_idempotent_writes(sleeps: list[float]) -> None:
    fn = _flaky([retry.MaybeWritten("reset")])
    with pytest.raises(retry.MaybeWritten):
        retry.call(fn, what="POST x", idempotent=False)  # type: ignore[arg-type]
    assert sleeps == []


def test_gives_up_after_the_attempts(sleeps: list[float]) -> None:
    fn = _flaky([retry.Transient("502", status=502)] * 10)
    with pytest.raises(ForgeError, match="gave up after 3 attempts") as err:
        retry.call(fn, what="GET x", policy=retry.Policy(attempts=3))  # type: ignore[arg-type]
    assert err.value.status == 502
    assert len(sleeps) == 2


def test_redaction_of_registered_and_shaped_tokens() -> None:
    log.register_secret("s3cret-value")
    text = "a s3cret-value b ghp_" + "A" * 36 + " glpat-" + "x" * 20
    assert log.redact(text) == "a *** b *** ***"


def test_add_mask_only_on_github_actions() -> None:
    out = io.StringIO()
    log.register_secret("first-secret", {}, out)
    log.register_secret("second-secret", {"GITHUB_ACTIONS": "true"}, out)
    assert out.getvalue() == "::add-mask::second-secret\n"


def test_log_handler_redacts() -> None:
    stream = io.StringIO()
    log.setup(debug=True, stream=stream)
    log.register_secret("hunter2hunter2")
    logging.getLogger("urllib3").debug("Authorization: token hunter2hunter2")
    assert "hunter2" not in stream.getvalue()
    assert "***" in stream.getvalue()
