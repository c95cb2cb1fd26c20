"""Read-only questions about the git repository cml runs in."""

from __future__ import annotations

import re
from pathlib import Path

from cml import proc
from cml.errors import ConfigError


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    return proc.run(["git", "-C", str(cwd), *args], check=check).stdout.strip()


def toplevel(cwd: Path) -> Path:
    """The root of the work tree holding ``cwd``; raises ConfigError outside a repository."""
    done = proc.run(["git", "-C", str(cwd), "rev-parse", "--show-toplevel"], check=False)
    if done.returncode != 0:
        raise ConfigError(
            f"{cwd} is not inside a git repository", hint="run cml from your project's checkout"
        )
    return Path(done.stdout.strip())


def head_sha(cwd: Path) -> str:
    """The commit HEAD points at."""
    return _git(cwd, "rev-parse", "HEAD")


def remote_url(cwd: Path, remote: str = "origin") -> str | None:
    """The fetch URL of ``remote``, or None when it does not exist."""
    url = _git(cwd, "remote", "get-url", remote, check=False)
    return url or None


def user_name(cwd: Path) -> str | None:
    """``git config user.name``, or None."""
    return _git(cwd, "config", "user.name", check=False) or None


_REMOTE = re.compile(r"^(?:[\w+.-]+://)?(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?[/:](?P<path>.+?)(?:\.git)?/?$")


def parse_remote(url: str) -> tuple[str, str] | None:
    """Split a git remote URL into (host, project path); credentials are dropped."""
    match = _REMOTE.match(url.strip())
    if not match:
        return None
    return match["host"], match["path"]
