"""``--forge F`` where the CI is not F's own: which repository and API to talk to, and where from.

Read from F's own CI variables when set (``GITHUB_REPOSITORY``, ``GITHUB_API_URL``;
``CI_PROJECT_PATH``, ``CI_SERVER_URL``, ``CI_API_V4_URL``), else from an ``origin`` remote on F's
server (github.com and gitlab.com unless the server variable names another).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from cml import git
from cml.ci import CIContext, ForgeName
from cml.errors import ConfigError


@dataclass(frozen=True, kw_only=True)
class _Where:
    """Where a forge's repository, server and API URL are named, and their public defaults."""

    repo_var: str
    server_var: str
    api_var: str
    server: str  # the public instance
    api: str  # its API root
    api_path: str  # the API root under a self-hosted server


_FORGES: dict[ForgeName, _Where] = {
    "github": _Where(
        repo_var="GITHUB_REPOSITORY",
        server_var="GITHUB_SERVER_URL",
        api_var="GITHUB_API_URL",
        server="https://github.com",
        api="https://api.github.com",
        api_path="/api/v3",  # GitHub Enterprise Server
    ),
    "gitlab": _Where(
        repo_var="CI_PROJECT_PATH",
        server_var="CI_SERVER_URL",
        api_var="CI_API_V4_URL",
        server="https://gitlab.com",
        api="https://gitlab.com/api/v4",
        api_path="/api/v4",
    ),
}


def on_forge(ctx: CIContext, forge: ForgeName, env: Mapping[str, str]) -> CIContext:
    """``ctx`` talking to ``forge``: its repository, server and API URL filled in.

    Raises ConfigError naming the variables to set (and the remote that would do) when neither
    the environment nor an ``origin`` remote on the forge's server names the repository.
    """
    where = _FORGES.get(forge)
    if where is None:
        return replace(ctx, forge=forge)
    server = (env.get(where.server_var) or where.server).rstrip("/")
    default_api = where.api if server == where.server else server + where.api_path
    api = (env.get(where.api_var) or default_api).rstrip("/")
    repo = env.get(where.repo_var) or _origin_repo(ctx, server)
    if not repo:
        host = urlsplit(server).netloc
        raise ConfigError(
            f"--forge {forge}: cannot tell which repository to use: {where.repo_var} is not set "
            f"and there is no origin remote on {host}",
            hint=f"set {where.repo_var} (and {where.server_var}, {where.api_var} off "
            f"{urlsplit(where.server).netloc}), or add an origin remote on {host}",
        )
    return replace(ctx, forge=forge, repo=repo, server_url=server, api_url=api)


def _origin_repo(ctx: CIContext, server: str) -> str | None:
    """The project path of an ``origin`` remote on ``server``'s host (below its subpath), else None."""
    url = git.remote_url(ctx.workdir)
    parsed = git.parse_remote(url) if url else None
    parts = urlsplit(server)
    if parsed is None or parsed[0].lower() != (parts.hostname or "").lower():
        return None
    prefix = parts.path.strip("/")
    path = parsed[1].strip("/")
    if prefix:
        if not path.startswith(prefix + "/"):
            return None
        path = path[len(prefix) + 1 :]
    return path or None
