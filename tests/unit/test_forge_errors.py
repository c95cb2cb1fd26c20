"""The one mapping of both forge clients' failures to cml errors (cml.forges.errors), without a server."""

from __future__ import annotations

import email.utils
import socket
import time
from typing import Any

import pytest
import requests
from github.GithubException import BadCredentialsException, GithubException, RateLimitExceededException
from gitlab import exceptions as gle
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ProxyError

from cml.ci import CIContext
from cml.errors import AuthError, ForgeError
from cml.forges import errors
from cml.forges.retry import MaybeWritten, Transient

CTX = CIContext(
    provider="github_actions", forge="github", repo="acme/app", sha="a" * 40,
    api_url="https://ghe.example/api/v3", pr=7,
)  # fmt: skip
GL_API = "https://gl.example/api/v4"


def _date(offset: float) -> str:
    return email.utils.formatdate(time.time() + offset, usegmt=True)


def _now(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` with "+N" made N seconds from now: an HTTP date for Retry-After, else an epoch time."""
    return {
        k: (_date(float(v)) if k == "Retry-After" else str(int(time.time() + float(v))))
        if v.startswith("+")
        else v
        for k, v in headers.items()
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": " 12 "}, 12.0),
        ({"Retry-After": "-2"}, 0.0),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({"Retry-After": "Wed, 32 Oct 2015 07:28:00 GMT"}, None),  # no 32 October
        ({"Retry-After": "Wed, 21 Oct"}, None),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # long past
        ({"Retry-After": ""}, None),
        ({}, None),
        (None, None),
    ],
)
def test_retry_after_seconds_and_malformed(headers: dict[str, str] | None, expected: float | None) -> None:
    assert errors.retry_after(headers) == expected


def test_retry_after_as_an_http_date() -> None:
    assert 25 <= (errors.retry_after({"Retry-After": _date(30)}) or 0) <= 31
    minus = _date(30).replace("GMT", "-0000")  # RFC 5322's "unknown zone", read as UTC
    assert 25 <= (errors.retry_after({"Retry-After": minus}) or 0) <= 31


def test_reset_in_reads_an_epoch_time() -> None:
    assert (
        55
        <= (errors.reset_in({"X-RateLimit-Reset": str(int(time.time()) + 60)}, "x-ratelimit-reset") or 0)
        <= 61
    )
    assert errors.reset_in({"RateLimit-Reset": "later"}, "RateLimit-Reset") is None


def _refused() -> requests.ConnectionError:
    """What requests raises for a connection refused: a real attempt on a port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    try:
        requests.post(f"http://127.0.0.1:{port}/x", timeout=5)
    except requests.ConnectionError as exc:
        return exc
    raise AssertionError("a closed port answered")


def _wrapped(reason: Exception) -> requests.ConnectionError:
    """The shape requests gives a urllib3 failure: ConnectionError(MaxRetryError(reason=...))."""
    return requests.ConnectionError(MaxRetryError(None, "/x", reason))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("exc", "unsent"),
    [
        (requests.ConnectTimeout("connect timed out"), True),
        (_wrapped(NameResolutionError("gl.example", None, socket.gaierror("no such host"))), True),  # type: ignore[arg-type]
        (_wrapped(ProxyError("proxy down", NewConnectionError(None, "refused"))), True),  # type: ignore[arg-type]
        (requests.ConnectionError("NewConnectionError in the text only"), False),  # by type, not text
        (requests.ConnectionError("Connection reset by peer"), False),
        (requests.ReadTimeout("slow"), False),
        (requests.exceptions.ChunkedEncodingError("cut"), False),
    ],
)
def test_never_sent_is_judged_by_type(exc: Exception, unsent: bool) -> None:
    assert errors.never_sent(exc) is unsent
    assert type(errors.lost(exc, write=True, api_url=GL_API)) is (Transient if unsent else MaybeWritten)
    assert type(errors.lost(exc, write=False, api_url=GL_API)) is Transient


def test_a_refused_connection_was_never_sent() -> None:
    exc = _refused()
    assert errors.never_sent(exc)
    got = errors.lost(exc, write=True, api_url=GL_API)
    assert type(got) is Transient
    assert got.message == f"no answer from {GL_API} (ConnectionError)"


def _gh(status: int, message: str, headers: dict[str, str] | None = None, cls: type = GithubException) -> Any:
    return cls(status, {"message": message}, headers or {}, message)


@pytest.mark.parametrize(
    ("exc", "write", "kind", "code"),
    [
        (_gh(401, "Bad credentials", cls=BadCredentialsException), False, AuthError, 5),
        (_gh(403, "Resource not accessible by integration"), True, AuthError, 5),
        (_gh(403, "API rate limit exceeded for user", cls=RateLimitExceededException), False, Transient, 4),
        (_gh(403, "You have exceeded a secondary rate limit"), True, Transient, 4),
        (_gh(403, "Forbidden", {"X-RateLimit-Remaining": "0"}), False, Transient, 4),
        (_gh(429, "Too Many Requests"), True, Transient, 4),
        (_gh(500, "oops"), False, Transient, 4),
        (_gh(502, "Bad Gateway"), True, MaybeWritten, 4),
        (_gh(404, "Not Found"), False, ForgeError, 4),
        (_gh(422, "Validation Failed"), True, ForgeError, 4),
    ],
)
def test_github_status_table(exc: Any, write: bool, kind: type, code: int) -> None:
    got = errors.github(exc, what="GET /x", need="issues: write", write=write, ctx=CTX)
    assert type(got) is kind
    assert got.exit_code == code
    assert got.status == exc.status


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"Retry-After": "9"}, 9, 9),
        ({"Retry-After": "+40"}, 35, 41),
        ({"Retry-After": "whenever"}, None, None),  # malformed: no advice, the policy's backoff
        ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "+20"}, 19, 22),
    ],
)
def test_github_rate_limit_advice(headers: dict[str, str], low: float | None, high: float | None) -> None:
    got = errors.github(_gh(429, "slow down", _now(headers)), what="x", need="", write=False, ctx=CTX)
    assert isinstance(got, Transient)
    if low is None:
        assert got.retry_after is None
    else:
        assert got.retry_after is not None
        assert low <= got.retry_after <= (high or low)


def _gitlab(exc: Exception, method: str = "GET", headers: dict[str, str] | None = None) -> ForgeError:
    """Run a call raising ``exc`` through the guard, the last response's headers remembered."""
    translate = errors.GitLabErrors(api_url=GL_API, project="g/p")

    def call() -> None:
        answer = requests.Response()
        answer.headers.update(headers or {})
        translate.remember(answer)
        raise exc

    with pytest.raises(ForgeError) as caught:
        translate.guard(call, what=f"{method} /x", method=method)
    return caught.value


@pytest.mark.parametrize(
    ("exc", "method", "kind", "code"),
    [
        (gle.GitlabAuthenticationError("401 Unauthorized", 401), "GET", AuthError, 5),
        (gle.GitlabCreateError("403 Forbidden", 403), "POST", AuthError, 5),
        (gle.GitlabGetError("404 Project Not Found", 404), "GET", ForgeError, 4),
        (gle.GitlabHttpError("429 Too Many Requests", 429), "POST", Transient, 4),
        (gle.GitlabGetError("500 Internal Server Error", 500), "GET", Transient, 4),
        (gle.GitlabCreateError("502 Bad Gateway", 502), "POST", MaybeWritten, 4),
        (gle.GitlabUpdateError("400 Bad Request", 400), "PUT", ForgeError, 4),
        (gle.GitlabParsingError("Failed to parse the server message"), "GET", ForgeError, 4),
    ],
)
def test_gitlab_status_table(exc: gle.GitlabError, method: str, kind: type, code: int) -> None:
    got = _gitlab(exc, method)
    assert type(got) is kind
    assert got.exit_code == code
    assert got.status == exc.response_code


def test_gitlab_names_the_project_on_a_404_and_the_host_otherwise() -> None:
    missing = _gitlab(gle.GitlabGetError("404 Project Not Found", 404))
    other = _gitlab(gle.GitlabUpdateError("400 Bad Request", 400), "PUT")
    assert missing.message == f"project 'g/p' not found at {GL_API} (or the token cannot see it)"
    assert other.message == f"PUT /x: GitLab answered 400: 400 Bad Request ({GL_API})"


@pytest.mark.parametrize(
    ("headers", "low", "high"),
    [
        ({"Retry-After": "7"}, 7, 7),
        ({"Retry-After": "+30"}, 25, 31),
        (
            {"Retry-After": "Mon, 99 Foo 2015 99:99:99 GMT", "RateLimit-Reset": "0"},
            0,
            0,
        ),  # malformed: the reset
        ({"RateLimit-Reset": "+60"}, 55, 61),
        ({}, None, None),
    ],
)
def test_gitlab_429_reads_the_remembered_headers(
    headers: dict[str, str], low: float | None, high: float | None
) -> None:
    got = _gitlab(gle.GitlabHttpError("429 Too Many Requests", 429), headers=_now(headers))
    assert isinstance(got, Transient)
    if low is None:
        assert got.retry_after is None
    else:
        assert got.retry_after is not None
        assert low <= got.retry_after <= (high or low)
