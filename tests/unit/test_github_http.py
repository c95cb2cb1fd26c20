"""How GitHub's answers and connection faults become cml errors (no network: a stand-in requester)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from github import GithubException

from cml.ci import CIContext
from cml.errors import AuthError, ForgeError
from cml.forges import retry
from cml.forges.github_http import Api


def _ctx(head_repo: str | None = None) -> CIContext:
    return CIContext(
        provider="github_actions", forge="github", repo="acme/app", sha="a" * 40,
        api_url="https://ghe.example/api/v3", pr=7, head_repo=head_repo,
    )  # fmt: skip


class Raising:
    """A requester whose every call raises ``exc``, counting calls."""

    def __init__(self, exc: Exception) -> None:
        self.exc, self.calls = exc, 0

    def requestJsonAndCheck(self, *args: Any, **kw: Any) -> Any:
        self.calls += 1
        raise self.exc


def _call(exc: Exception, verb: str = "GET", head_repo: str | None = None) -> tuple[Exception, int]:
    requester = Raising(exc)
    with pytest.raises(ForgeError) as caught:
        Api(_ctx(head_repo), requester).call(verb, "/x", what=f"{verb} /x", need="pull-requests: write")
    return caught.value, requester.calls


def _gh(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> GithubException:
    return GithubException(status, {"message": message, **extra}, headers or {}, message)


def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    error, calls = _call(_gh(429, "slow down", {"Retry-After": "9"}))
    assert calls == retry.DEFAULT.attempts
    assert sleeps == [9.0] * (calls - 1)
    assert "gave up" in error.message


def test_secondary_rate_limit_without_advice_waits_a_minute(sleeps: list[float]) -> None:
    _call(
        _gh(403, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.")
    )
    assert set(sleeps) == {60.0}


def test_primary_rate_limit_waits_for_the_reset(sleeps: list[float]) -> None:
    reset = str(int(time.time()) + 20)
    _call(
        _gh(
            403,
            "API rate limit exceeded for user ID 1.",
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset},
        )
    )
    assert all(18 <= s <= 22 for s in sleeps)


def test_primary_rate_limit_far_off_fails_at_once(sleeps: list[float]) -> None:
    reset = str(int(time.time()) + 3000)
    error, calls = _call(
        _gh(403, "API rate limit exceeded", {"x-ratelimit-remaining": "0", "x-ratelimit-reset": reset})
    )
    assert calls == 1
    assert "rate limit exhausted" in error.message
    assert not sleeps


@pytest.mark.parametrize("verb", ["GET", "PATCH"])
def test_5xx_on_idempotent_calls_is_retried(verb: str, sleeps: list[float]) -> None:
    _, calls = _call(_gh(502, "Bad Gateway"), verb)
    assert calls == retry.DEFAULT.attempts


@pytest.mark.parametrize(
    "exc",
    [
        _gh(500, "oops"),
        requests.ConnectionError("dropped"),
        requests.ReadTimeout("slow"),
        requests.exceptions.ChunkedEncodingError("cut"),
    ],
)
def test_a_post_that_may_have_landed_is_maybe_written(exc: Exception) -> None:
    error, calls = _call(exc, "POST")
    assert isinstance(error, retry.MaybeWritten)
    assert calls == 1


def test_a_post_that_never_connected_is_retried() -> None:
    error, calls = _call(requests.ConnectTimeout("no route"), "POST")
    assert not isinstance(error, retry.MaybeWritten)
    assert calls == retry.DEFAULT.attempts


def test_401_keeps_status_and_body() -> None:
    error, calls = _call(_gh(401, "Bad credentials"))
    assert isinstance(error, AuthError)
    assert calls == 1
    assert error.status == 401
    assert "Bad credentials" in error.body
    assert error.message == "GitHub rejected the token (revoked or expired?)"


def test_403_names_the_permission_or_the_fork_pattern() -> None:
    plain, _ = _call(_gh(403, "Resource not accessible by integration"), "POST")
    fork, _ = _call(_gh(403, "Resource not accessible by integration"), "POST", head_repo="eve/app")
    assert "permissions: pull-requests: write" in str(plain)
    assert "workflow_run" in str(fork)
    assert "fork-safe" in str(fork)


def test_404_names_repo_and_api_url_and_422_its_errors() -> None:
    missing, _ = _call(_gh(404, "Not Found"))
    invalid, _ = _call(_gh(422, "Validation Failed", errors=[{"field": "body", "code": "custom"}]), "PATCH")
    assert "acme/app" in missing.message
    assert "https://ghe.example/api/v3" in missing.message
    assert invalid.status == 422
    assert '"field": "body"' in invalid.message


def test_token_shapes_never_reach_a_message() -> None:
    token = "ghp_" + "A" * 36
    error, _ = _call(_gh(422, f"bad value {token}"), "POST")
    assert token not in str(error)
    assert token not in error.body
