"""Hold the fake GitHub to GitHub's own OpenAPI description (npm package ``@octokit/openapi``).

The description is fetched once with ``npm pack`` into ``.cache/openapi/`` at the repository root
and reused. Every request cml sent must match an operation, and every response the fake gave must
validate against that operation's schema.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

from tests.fakes.github import FakeGitHub

CACHE = Path(__file__).resolve().parents[3] / ".cache" / "openapi"
SPEC = CACHE / "package" / "generated" / "api.github.com.json"
_HOST = "https://api.github.com"
#: Statuses GitHub answers on any operation (bad token, missing permission, an object already
#: gone, e.g. a comment deleted twice) although its description lists them on few: tolerated where
#: undocumented, validated where documented.
_ANYWHERE = {401, 403, 404}


def fetch() -> Path | None:
    """The description's path, packing it with npm on first use; None when npm is missing."""
    if SPEC.is_file():
        return SPEC
    npm = shutil.which("npm")
    if npm is None:
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [npm, "pack", "@octokit/openapi", "--pack-destination", str(CACHE)],
        capture_output=True, text=True, check=True, timeout=600,
    )  # fmt: skip
    with tarfile.open(CACHE / done.stdout.strip().splitlines()[-1]) as tar:
        tar.extract("package/generated/api.github.com.json", CACHE, filter="data")
    return SPEC


class Checker:
    """Validates a fake's exchanges against the description."""

    def __init__(self, spec: Path) -> None:
        from openapi_core import Config, OpenAPI

        self.api = OpenAPI.from_dict(json.loads(spec.read_text()), config=Config(spec_validator_cls=None))

    def violations(self, fake: FakeGitHub) -> list[str]:
        """Every request that matches no operation and every response that does not validate."""
        from openapi_core.testing import MockRequest, MockResponse

        found: list[str] = []
        for req, reply in fake.exchanges:
            if req.path.endswith("/graphql"):  # GraphQL is described by its schema, not the REST description
                continue
            request = MockRequest(
                _HOST, req.method, _encode_ref(req.path), args=req.query, headers=req.headers, data=req.body or None,
                content_type=req.headers.get("content-type", "application/json").split(";")[0],
            )  # fmt: skip
            where = f"{req.method} {req.path}"
            found += [f"{where}: request: {_short(e)}" for e in self.api.iter_request_errors(request)]
            raw = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            response = MockResponse(raw, reply.status, headers=reply.headers)
            errors = [
                e
                for e in self.api.iter_response_errors(request, response)
                if not (reply.status in _ANYWHERE and type(e).__name__ == "ResponseNotFound")
            ]
            found += [f"{where} -> {reply.status}: response: {_short(e)}" for e in errors]
        return found


def _encode_ref(path: str) -> str:
    """``git/ref/heads/x`` with the ref's slashes encoded: openapi-core's ``{ref}`` takes no slash."""
    for marker in ("/git/ref/", "/git/refs/"):
        head, sep, ref = path.partition(marker)
        if sep and ref:
            return head + sep + ref.replace("/", "%2F")
    return path


def _short(error: Any) -> str:
    """The error's own line plus each schema error's message and where in the body it is."""
    cause = getattr(error, "__cause__", None) or error
    details = [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:200]}"
        for e in _leaves(getattr(cause, "schema_errors", ()))
    ]
    head = type(cause).__name__ if details else str(error)[:300]
    return head + ("; " + "; ".join(details[:12]) if details else "")


def _leaves(errors: Any) -> list[Any]:
    """The innermost jsonschema errors (oneOf/anyOf report their branches as ``context``)."""
    out: list[Any] = []
    for err in errors:
        out += _leaves(err.context) if getattr(err, "context", None) else [err]
    return out
