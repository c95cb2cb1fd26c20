"""Both forge clients' failures as cml errors: one table for HTTP answers, wait advice and lost requests.

What the clients raise:

* PyGithub: ``GithubException`` (``status``, ``data``, ``headers``) and its subclasses,
  ``BadCredentialsException`` (401) and ``RateLimitExceededException`` (403) among them; network
  faults come through as ``requests`` exceptions (cml turns PyGithub's own retries off).
* python-gitlab: ``GitlabError`` subclasses carrying ``response_code`` and the body but no headers
  (:class:`GitLabErrors` remembers each thread's last response to read ``Retry-After``); network
  faults come through as ``requests`` exceptions.

The table (:func:`kind`), the same for both forges:

======================================  ===============================================
answer                                  error
======================================  ===============================================
429, or a 403 that is a rate limit      :class:`~cml.forges.retry.Transient` (retried after the advice)
5xx                                     ``Transient``; ``MaybeWritten`` for a write
401, 403                                :class:`~cml.errors.AuthError` (exit 5)
any other status                        :class:`~cml.errors.ForgeError` (exit 4)
no answer, never sent                   ``Transient``, for a write too (:func:`never_sent`)
no answer, maybe sent                   ``Transient``; ``MaybeWritten`` for a write
======================================  ===============================================

A write is any method but GET and HEAD; the retry policy repeats a ``MaybeWritten`` only for
idempotent calls. Messages and bodies are redacted and never carry the token.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import math
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from cml.errors import AuthError, ForgeError
from cml.forges.retry import MaybeWritten, Transient
from cml.log import redact

if TYPE_CHECKING:
    from github.GithubException import GithubException
    from gitlab.exceptions import GitlabError

    from cml.ci import CIContext

T = TypeVar("T")
#: Characters of an error body kept on the error.
BODY_CHARS = 2000
#: A GitHub rate limit that resets further off than this many seconds fails at once.
LONGEST_WAIT = 300.0
#: GitHub's advice for a secondary rate limit that names no wait (docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api).
SECONDARY_WAIT = 60.0
FORK_HINT = (
    "a pull_request from a fork gets a read-only token: use the two-workflow pattern, where the "
    "`pull_request` workflow builds the report and uploads it as an artifact and a `workflow_run` "
    "workflow posts it with the base repository's token (workflow-templates/fork-safe-*.yml)"
)
_GITLAB_SCOPE_FIX = (
    "use a project access token with the api scope and the Reporter role or above, "
    "exposed to the job as the masked CI/CD variable REPO_TOKEN"
)


def kind(status: int, *, write: bool) -> type[ForgeError]:
    """The error class for an HTTP error answer (the module's table; rate-limited 403s aside)."""
    if status == 429:
        return Transient
    if status >= 500:
        return MaybeWritten if write else Transient
    if status in (401, 403):
        return AuthError
    return ForgeError


def is_write(method: str) -> bool:
    """True for a method that may change the forge's state (any but GET and HEAD)."""
    return method.upper() not in ("GET", "HEAD")


def header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    """The value of header ``name`` (any case) in ``headers``, or None."""
    wanted = name.lower()
    for key, value in (headers or {}).items():
        if str(key).lower() == wanted and value is not None:
            return str(value).strip()
    return None


def retry_after(headers: Mapping[str, Any] | None) -> float | None:
    """Seconds ``Retry-After`` asks us to wait: delay-seconds or an HTTP date (RFC 9110 §10.2.3).

    None when the header is absent or malformed; a date in the past or a negative number is 0.
    """
    value = header(headers, "Retry-After")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000" reads as naive; HTTP dates are GMT
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - time.time())


def reset_in(headers: Mapping[str, Any] | None, name: str) -> float | None:
    """Seconds until the epoch time in header ``name`` (``X-RateLimit-Reset``, ``RateLimit-Reset``)."""
    value = header(headers, name)
    if not value or not value.isdigit():
        return None
    return max(0.0, int(value) - time.time())


def _causes(exc: BaseException) -> Iterator[object]:
    """``exc`` and what it wraps: requests wraps urllib3's MaxRetryError, whose ``reason`` is the fault."""
    todo: list[object] = [exc]
    seen: set[int] = set()
    while todo and len(seen) < 16:
        item = todo.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        if isinstance(item, BaseException):
            todo += [item.__cause__, item.__context__, *item.args[:1]]
            todo += [getattr(item, "reason", None), getattr(item, "original_error", None)]


def never_sent(exc: BaseException) -> bool:
    """True when the request never left: the connection was not made (refused, DNS failed, timed out).

    Judged by type: ``requests.ConnectTimeout`` (the transport's ``ExpiredUnsent`` among them), or
    urllib3's ``NewConnectionError`` (``NameResolutionError`` among them) or ``ConnectTimeoutError``
    inside a ``requests.ConnectionError``. A write that was never sent is safe to send again.
    """
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    unsent = (requests.ConnectTimeout, ConnectTimeoutError, NewConnectionError)
    return any(isinstance(cause, unsent) for cause in _causes(exc))


def lost(exc: Exception, *, write: bool, api_url: str) -> Transient:
    """The error for a request that got no answer: ``MaybeWritten`` for a write that may have landed.

    The transport's deadline (:mod:`cml.forges.transport`) arrives as ``Expired`` (maybe sent) or
    ``ExpiredUnsent`` (a connect timeout: never sent), and names itself.
    """
    from cml.forges.transport import Expired, ExpiredUnsent

    error = MaybeWritten if write and not never_sent(exc) else Transient
    if isinstance(exc, (Expired, ExpiredUnsent)):
        return error(f"{api_url}: {exc}")
    return error(f"no answer from {api_url} ({type(exc).__name__})")


def _body(data: Any) -> str:
    """An error answer's body as kept on the error: text, redacted, at most BODY_CHARS."""
    if isinstance(data, bytes):
        text = data.decode("utf-8", "replace")
    elif isinstance(data, str):
        text = data
    else:
        text = json.dumps(data) if data is not None else ""
    return redact(text[:BODY_CHARS])


def _github_rate_limit(exc: GithubException, message: str) -> tuple[bool, float | None]:
    """Whether GitHub's answer is a (primary or secondary) rate limit, and the seconds it asks us to wait.

    docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api: 403 or 429, with
    ``Retry-After``, or ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``; else wait a minute.
    """
    from github.GithubException import RateLimitExceededException

    headers = exc.headers or {}
    exhausted = header(headers, "x-ratelimit-remaining") == "0"
    said = "rate limit" in message.lower()
    if isinstance(exc, RateLimitExceededException):
        limited = True
    else:
        limited = exc.status == 429 or (exc.status == 403 and (said or exhausted))
    if not limited:
        return False, None
    wait = retry_after(headers)
    if wait is None and exhausted:
        reset = reset_in(headers, "x-ratelimit-reset")
        wait = None if reset is None else reset + 1.0
    if wait is None and "secondary" in message.lower():
        wait = SECONDARY_WAIT
    return True, wait


def github(exc: GithubException, *, what: str, need: str, write: bool, ctx: CIContext) -> ForgeError:
    """The cml error for GitHub's error answer ``exc`` to the call ``what``.

    ``need`` names the permission the call requires (for a 403's hint); ``ctx`` names the repository
    and API URL, and whether this is a pull request from a fork (whose token is read-only).
    """
    data = exc.data
    message = data.get("message", "") if isinstance(data, dict) else str(data or "")
    message = " ".join(str(message).split())  # rule violations come as several lines; errors are one
    status, raw = exc.status, _body(data)
    said = redact(f"{status} {message}".strip())
    limited, wait = _github_rate_limit(exc, message)
    if limited:
        if wait is not None and wait > LONGEST_WAIT:
            return ForgeError(
                f"{what}: GitHub API rate limit exhausted for {wait / 60:.0f} more minutes ({said})",
                status=status,
                body=raw,
            )
        return Transient(f"rate limited ({said})", status=status, retry_after=wait)
    error = kind(status, write=write)
    if issubclass(error, Transient):
        return error(f"GitHub answered {said}", status=status)
    if status == 401:
        return AuthError(
            "GitHub rejected the token (revoked or expired?)",
            status=status,
            body=raw,
            hint="set REPO_TOKEN to a valid token, or use the job's GITHUB_TOKEN",
        )
    if status == 403:
        fork = write and ctx.is_fork_pr
        hint = (
            FORK_HINT
            if fork
            else f"the token needs `permissions: {need}` (in the workflow job) on {ctx.repo}"
        )
        refused = "GitHub refused the write" if fork else "GitHub refused"
        return AuthError(f"{what}: {refused} ({said})", status=status, body=raw, hint=hint)
    if status == 404:
        return ForgeError(
            f"{what}: GitHub answered 404 Not Found: check that {ctx.repo} exists at "
            f"{ctx.api_url} and that the token can read it",
            status=status,
            body=raw,
        )
    errors = data.get("errors") if isinstance(data, dict) else None
    detail = f": {redact(json.dumps(errors))[:300]}" if errors else ""
    return ForgeError(f"{what}: GitHub answered {said}{detail}", status=status, body=raw)


class GitLabErrors:
    """Maps one project's python-gitlab / ``requests`` errors to cml errors, naming host and project."""

    def __init__(self, *, api_url: str, project: str) -> None:
        self.api_url = api_url
        self.project = project
        self._last = threading.local()  # pages may be read from several threads

    def remember(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        """``requests`` response hook: keep this thread's latest headers (for ``Retry-After``)."""
        self._last.headers = response.headers
        return response

    def guard(self, fn: Callable[[], T], *, what: str, method: str) -> T:
        """Run ``fn``; raise its failure as a cml error (see the module docstring)."""
        import gitlab.exceptions
        import requests

        self._last.headers = None
        try:
            return fn()
        except gitlab.exceptions.GitlabError as exc:
            raise self.http(exc, what=what, method=method) from exc
        except requests.RequestException as exc:
            raise lost(exc, write=is_write(method), api_url=self.api_url) from exc

    def wait(self) -> float | None:
        """Seconds the last answer asks us to wait: ``Retry-After``, else ``RateLimit-Reset``."""
        headers = getattr(self._last, "headers", None)
        advised = retry_after(headers)
        return advised if advised is not None else reset_in(headers, "RateLimit-Reset")

    def http(self, exc: GitlabError, *, what: str, method: str) -> ForgeError:
        """The cml error for GitLab's error answer ``exc`` to the call ``what``."""
        code = exc.response_code
        body = _body(exc.response_body or b"")
        said = redact(str(exc.error_message))[:300]
        error = kind(code or 0, write=is_write(method))
        if code == 429:
            return Transient("rate limited (429)", status=429, retry_after=self.wait())
        if code and issubclass(error, Transient):
            return error(f"GitLab answered {code}: {said}", status=code)
        if code == 401:
            return AuthError(
                f"{self.api_url}: GitLab rejected the token (revoked or expired?)",
                status=401,
                body=body,
                hint="create a new project access token and update the REPO_TOKEN variable",
            )
        if code == 403:
            return AuthError(
                f"{what}: GitLab refused it (403: {said})", status=403, body=body, hint=_GITLAB_SCOPE_FIX
            )
        if code == 404 and "project" in said.lower():
            return ForgeError(
                f"project {self.project!r} not found at {self.api_url} (or the token cannot see it)",
                status=404,
                body=body,
                hint="check CI_PROJECT_ID / CI_PROJECT_PATH (in a merge request pipeline: "
                "CI_MERGE_REQUEST_PROJECT_ID / _PATH) and that the token's user is a project member",
            )
        answered = f"GitLab answered {code}: {said}" if code else f"GitLab's answer was unusable: {said}"
        return ForgeError(f"{what}: {answered} ({self.api_url})", status=code, body=body)
