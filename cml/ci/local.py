"""No CI: the repository is the git work tree we run in, the forge is the local one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from cml import git
from cml.ci import CIContext


def context(env: Mapping[str, str], cwd: Path) -> CIContext:
    """The work tree holding ``cwd``, HEAD as the commit; repo named from ``origin`` when present."""
    top = git.toplevel(cwd)
    remote = git.remote_url(top)
    parsed = git.parse_remote(remote) if remote else None
    return CIContext(
        provider="local",
        forge="local",
        repo=parsed[1] if parsed else top.name,
        sha=git.head_sha(top),
        server_url=f"file://{top}",
        workflow=env.get("CML_TITLE") or "cml",
        actor=git.user_name(top) or env.get("USER"),
        workdir=top,
    )
