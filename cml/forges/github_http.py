"""GitHub REST calls through PyGithub's requester, under cml's one retry policy.

Every call goes through :meth:`Api.call`, under the retry policy (:mod:`cml.forges.retry`); PyGithub
and ``requests`` failures become cml errors as :mod:`cml.forges.errors` maps them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cml.ci import CIContext
from cml.forges import errors, retry


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

        write = errors.is_write(verb)
        try:
            headers, data = self.requester.requestJsonAndCheck(
                verb, path, parameters=dict(params) if params else None, input=body
            )
        except GithubException as exc:
            raise errors.github(exc, what=what, need=need, write=write, ctx=self.ctx) from None
        except requests.RequestException as exc:  # the transport's deadline is a Timeout among them
            raise errors.lost(exc, write=write, api_url=self.ctx.api_url) from None
        return Answer(headers=headers, data=data)
