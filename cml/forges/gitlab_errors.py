"""python-gitlab's failures turned into cml's: Transient, MaybeWritten, AuthError, ForgeError.

python-gitlab raises ``GitlabError`` subclasses carrying ``response_code`` and the body for HTTP
errors (``GitlabAuthenticationError`` for 401), and lets ``requests`` exceptions through for
network faults when its own retries are off. Its exceptions carry no headers, so the last response
is remembered (a session hook) to read ``Retry-After``.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cml.errors import AuthError, ForgeError
from cml.forges.retry import MaybeWritten, Transient
from cml.log import redact

T = TypeVar("T")
_BODY_CHARS = 2000
_SCOPE_FIX = (
    "use a project access token with the api scope and the Reporter role or above, "
    "exposed to the job as the masked CI/CD variable REPO_TOKEN"
)


def retry_after(headers: Any) -> float | None:
    """Seconds the server asks us to wait: ``Retry-After`` (seconds or a date), else ``RateLimit-Reset``."""
    value = headers.get("Retry-After") if headers is not None else None
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                return None
    reset = headers.get("RateLimit-Reset") if headers is not None else None
    if reset and reset.isdigit():
        return max(0.0, int(reset) - time.time())
    return None


class Translator:
    """Maps one project's python-gitlab / requests errors to cml errors, naming host and project."""

    def __init__(self, *, api_url: str, project: str) -> None:
        self.api_url = api_url
        self.project = project
        self._headers: Any = None

    def remember(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        """``requests`` response hook: keep the latest headers (for ``Retry-After``)."""
        self._headers = response.headers
        return response

    def guard(self, fn: Callable[[], T], *, what: str, method: str) -> T:
        """Run ``fn``; raise its failure as a cml error (see the module docstring)."""
        import gitlab.exceptions
        import requests

        self._headers = None
        try:
            return fn()
        except gitlab.exceptions.GitlabError as exc:
            raise self.http(exc, what=what, method=method) from exc
        except requests.RequestException as exc:
            raise self.network(exc, method=method) from exc

    def http(self, exc: Any, *, what: str, method: str) -> ForgeError:
        """The cml error for an HTTP error answer (``exc`` is a ``GitlabError``)."""
        code: int | None = exc.response_code
        raw = exc.response_body or b""
        body = redact(raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))[:_BODY_CHARS]
        said = redact(str(exc.error_message))[:300]
        if code == 429:
            return Transient("rate limited (429)", status=429, retry_after=retry_after(self._headers))
        if code is not None and code >= 500:
            kind = MaybeWritten if method == "POST" else Transient
            return kind(f"GitLab answered {code}: {said}", status=code)
        if code == 401:
            return AuthError(
                f"{self.api_url}: GitLab rejected the token (revoked or expired?)",
                status=401,
                body=body,
                hint="create a new project access token and update the REPO_TOKEN variable",
            )
        if code == 403:
            return AuthError(
                f"{what}: GitLab refused it (403: {said})", status=403, body=body, hint=_SCOPE_FIX
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

    def network(self, exc: Exception, *, method: str) -> Transient:
        """The cml error for a network fault: MaybeWritten when a POST may have reached the server.

        The transport's deadline (:mod:`cml.forges.transport`) arrives as a ``requests`` timeout:
        ``ExpiredUnsent`` (a connect timeout) never went out, ``Expired`` may have been written.
        """
        import requests
        from urllib3.exceptions import NewConnectionError

        from cml.forges.transport import Expired, ExpiredUnsent

        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        unsent = isinstance(exc, requests.ConnectTimeout) or isinstance(reason, NewConnectionError)
        if isinstance(exc, (Expired, ExpiredUnsent)):
            message = f"{self.api_url}: {exc}"
        else:
            message = f"no answer from {self.api_url} ({type(exc).__name__})"
        if method == "POST" and not unsent:
            return MaybeWritten(message)
        return Transient(message)
