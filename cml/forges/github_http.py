"""GitHub REST calls through PyGithub's requester, under cml's one retry policy.

Every call goes through :meth:`Api.call`, which turns PyGithub and ``requests`` failures into
:class:`~cml.forges.retry.Transient` (retried), :class:`~cml.forges.retry.MaybeWritten` (a write
whose answer was lost), :class:`~cml.errors.AuthError` or :class:`~cml.errors.ForgeError`, each
keeping the status and body. Messages never carry the token: they are built from the response.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cml.ci import CIContext
from cml.errors import AuthError, ForgeError
from cml.forges import retry
from cml.log import redact

FORK_HINT = (
    "a pull_request from a fork gets a read-only token: use the two-workflow pattern, where the "
    "`pull_request` workflow builds the report and uploads it as an artifact and a `workflow_run` "
    "workflow posts it with the base repository's token (workflow-templates/fork-safe-*.yml)"
)
_LONGEST_WAIT = 300.0  # a primary rate limit further off than this fails at once


@dataclass(frozen=True, kw_only=True)
class Answer:
    """A successful response: its headers and decoded JSON."""

    headers: Mapping[str, Any]
    data: Any


class Api:
    """GitHub's REST API for one repository, reached through a ``github.Github`` requester."""

    def __init__(self, ctx: CIContext, requester: Any) -> None:
        self.ctx = ctx
        self.requester = requester
        self.repo_path = f"/repos/{ctx.repo}"

    def call(
        self,
        verb: str,
        path: str,
        *,
        what: str,
        need: str,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        idempotent: bool | None = None,
    ) -> Answer:
        """Send one request (``path`` relative to the API root, or a full URL), retrying faults.

        ``need`` names the token permission the call requires (for 403 messages). GET/PATCH/PUT
        are idempotent unless told otherwise; a POST whose answer was lost raises MaybeWritten.
        """
        safe = verb in ("GET", "PATCH", "PUT") if idempotent is None else idempotent

        def once() -> Answer:
            return self._once(verb, path, what=what, need=need, params=params, body=body)

        return retry.call(once, what=what, idempotent=safe)

    def _once(self, verb: str, path: str, *, what: str, need: str, params: Any, body: Any) -> Answer:
        import requests
        from github import GithubException

        write = verb != "GET"
        try:
            headers, data = self.requester.requestJsonAndCheck(
                verb, path, parameters=dict(params) if params else None, input=body
            )
        except GithubException as exc:
            raise self.translate(
                exc.status, exc.data, exc.headers or {}, what=what, need=need, write=write
            ) from None
        except requests.RequestException as exc:  # the transport's deadline is a Timeout among them
            raise _lost(exc, write, self.ctx.api_url) from None
        return Answer(headers=headers, data=data)

    def translate(
        self, status: int, data: Any, headers: Mapping[str, Any], *, what: str, need: str, write: bool
    ) -> ForgeError:
        """The cml error for a GitHub error response."""
        headers = {str(k).lower(): v for k, v in headers.items()}
        message = data.get("message", "") if isinstance(data, dict) else str(data or "")
        message = " ".join(str(message).split())  # rule violations come as several lines; errors are one
        raw = redact(json.dumps(data)[:2000] if data is not None else "")
        said = redact(f"{status} {message}".strip())
        limited, wait = _rate_limit(status, message, headers)
        if limited:
            if wait is not None and wait > _LONGEST_WAIT:
                return ForgeError(
                    f"{what}: GitHub API rate limit exhausted for {wait / 60:.0f} more minutes ({said})",
                    status=status,
                    body=raw,
                )
            return retry.Transient(f"rate limited ({said})", status=status, retry_after=wait)
        if status >= 500:
            kind = retry.MaybeWritten if write else retry.Transient
            return kind(f"GitHub answered {said}", status=status)
        if status == 401:
            return AuthError(
                "GitHub rejected the token (revoked or expired?)",
                status=status,
                body=raw,
                hint="set REPO_TOKEN to a valid token, or use the job's GITHUB_TOKEN",
            )
        if status == 403:
            if write and self.ctx.is_fork_pr:
                return AuthError(
                    f"{what}: GitHub refused the write ({said})", status=status, body=raw, hint=FORK_HINT
                )
            return AuthError(
                f"{what}: GitHub refused ({said})",
                status=status,
                body=raw,
                hint=f"the token needs `permissions: {need}` (in the workflow job) on {self.ctx.repo}",
            )
        if status == 404:
            return ForgeError(
                f"{what}: GitHub answered 404 Not Found: check that {self.ctx.repo} exists at "
                f"{self.ctx.api_url} and that the token can read it",
                status=status,
                body=raw,
            )
        errors = data.get("errors") if isinstance(data, dict) else None
        detail = f": {redact(json.dumps(errors))[:300]}" if errors else ""
        return ForgeError(f"{what}: GitHub answered {said}{detail}", status=status, body=raw)


def _rate_limit(status: int, message: str, headers: Mapping[str, Any]) -> tuple[bool, float | None]:
    """Whether this is a (primary or secondary) rate limit, and the seconds GitHub asks us to wait."""
    lowered = message.lower()
    exhausted = str(headers.get("x-ratelimit-remaining")) == "0"
    if status not in (403, 429) or not (status == 429 or "rate limit" in lowered or exhausted):
        return False, None
    try:
        if headers.get("retry-after") is not None:
            return True, float(headers["retry-after"])
        if exhausted and headers.get("x-ratelimit-reset"):
            return True, max(0.0, float(headers["x-ratelimit-reset"]) - time.time()) + 1.0
    except ValueError:
        pass
    return True, 60.0 if "secondary" in lowered else None


def _lost(exc: Exception, write: bool, api_url: str) -> retry.Transient:
    """A connection fault: a write that may have been sent becomes MaybeWritten.

    The transport's deadline is ``ExpiredUnsent`` (a connect timeout: never sent) or ``Expired``.
    """
    import requests

    from cml.forges.transport import Expired, ExpiredUnsent

    name = type(exc).__name__
    never_sent = isinstance(exc, requests.ConnectTimeout) or "NewConnectionError" in str(exc)
    kind = retry.MaybeWritten if write and not never_sent else retry.Transient
    if isinstance(exc, (Expired, ExpiredUnsent)):
        return kind(f"{api_url}: {exc}")
    return kind(f"connection to {api_url} failed ({name})")
