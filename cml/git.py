"""Every git command cml runs, in one place: questions about the work tree and fetching a commit.

Nothing a user or a CI event supplies reaches git as an argument it could read as an option: a
revision is first resolved to a full sha with ``rev-parse --verify --end-of-options REV^{commit}``
(git 2.39 echoes ``--end-of-options`` back without ``--verify``), a ref to fetch must look like a
ref or a sha and comes after ``--end-of-options``, and a path comes after ``sha:``.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from cml import proc
from cml.errors import ConfigError


def _git(cwd: Path, *args: str, check: bool = True) -> str:
    return proc.run(["git", "-C", str(cwd), *args], check=check).stdout.strip()


def query(cwd: Path, *args: str, env: Mapping[str, str] | None = None) -> str | None:
    """``git ARGS`` in ``cwd``: its stripped stdout, or None when it fails."""
    done = proc.run(["git", "-C", str(cwd), *args], env=env, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def work_tree(cwd: Path) -> Path | None:
    """The root of the work tree holding ``cwd`` (``git rev-parse --show-toplevel``), or None outside one."""
    top = query(cwd, "rev-parse", "--show-toplevel")
    return Path(top) if top else None


def toplevel(cwd: Path) -> Path:
    """The root of the work tree holding ``cwd``; raises ConfigError outside a repository."""
    top = work_tree(cwd)
    if top is None:
        raise ConfigError(
            f"{cwd} is not inside a git repository", hint="run cml from your project's checkout"
        )
    return top


def commit(cwd: Path, rev: str) -> str | None:
    """The full sha of the commit ``rev`` names (any user-given string), or None when none here."""
    return query(cwd, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")


def head_sha(cwd: Path) -> str:
    """The commit HEAD points at; ConfigError when the repository has no commit yet."""
    sha = commit(cwd, "HEAD")
    if sha is None:
        raise ConfigError(f"{cwd}: no commits yet: commit first", hint="cml reports on a commit")
    return sha


def is_shallow(cwd: Path) -> bool:
    """Whether the clone is shallow (history cut at some depth)."""
    return query(cwd, "rev-parse", "--is-shallow-repository") == "true"


def merge_base(cwd: Path, a: str, b: str) -> str | None:
    """The best common ancestor of two commits (resolve them with :func:`commit` first), or None."""
    return query(cwd, "merge-base", "--end-of-options", a, b)


def show(cwd: Path, sha: str, path: str) -> str | None:
    """The text of ``path`` (relative to the work tree root) as committed in ``sha``; None when absent."""
    done = proc.run(["git", "-C", str(cwd), "show", "--end-of-options", f"{sha}:{path}"], check=False)
    return done.stdout if done.returncode == 0 else None


def changed(cwd: Path) -> list[str]:
    """Tracked paths whose staged or work-tree content differs from HEAD (``git status``: untracked and
    ignored files left out, a rename as its two paths), relative to the work tree root. Takes no lock
    (``--no-optional-locks``): the index is not rewritten under a concurrent git."""
    argv = ["git", "--no-optional-locks", "-C", str(cwd), "status", "--porcelain=v1", "-z"]
    done = proc.run([*argv, "--untracked-files=no", "--no-renames"])
    return [entry[3:] for entry in done.stdout.split("\0") if len(entry) > 3]


def files_at(cwd: Path, sha: str) -> list[str]:
    """Paths of the files (blobs, symlinks included) committed in ``sha``, relative to the root."""
    done = proc.run(["git", "-C", str(cwd), "ls-tree", "-r", "-z", "--full-tree", "--end-of-options", sha])
    entries = (entry.partition("\t") for entry in done.stdout.split("\0") if entry)
    return [path for meta, _, path in entries if meta.split(" ")[1:2] == ["blob"]]


# A branch or tag name git would accept (git check-ref-format, simplified: no "..", "@{", "//",
# leading "-" or "/", trailing "/" "." ".lock"), or a hex object name. Refspecs ("a:b", "+a") are not.
_REF = re.compile(r"^(?![-/.])(?!.*(?:\.\.|@\{|//|/\.|\.lock$|[/.]$))[\w./@-]+$", re.ASCII)


def fetchable(ref: str) -> bool:
    """Whether ``ref`` is a plain ref name or sha that is safe to hand to ``git fetch``."""
    return bool(_REF.match(ref))


def fetch(cwd: Path, ref: str, *, extra: tuple[str, ...] = (), env: Mapping[str, str] | None = None) -> bool:
    """``git fetch --quiet EXTRA --end-of-options origin REF``; False when it fails or ``ref`` is not
    :func:`fetchable`. ``env`` (the whole environment) may carry credentials as ``GIT_CONFIG_*``."""
    if not fetchable(ref):
        return False
    return query(cwd, "fetch", "--quiet", *extra, "--end-of-options", "origin", ref, env=env) is not None


def credentials_env(
    cwd: Path, *, server_url: str, user: str, token: str, base: Mapping[str, str] | None = None
) -> dict[str, str] | None:
    """The environment for a git command that talks to origin, with ``user:token`` as a basic
    ``Authorization`` header scoped to origin's URL; None (git's own credentials apply) when there is
    no token, or origin is not https on ``server_url``'s host and path, or carries its own credentials.

    The header travels as ``http.<origin>.extraheader`` in ``GIT_CONFIG_COUNT``/``GIT_CONFIG_KEY_n``/
    ``GIT_CONFIG_VALUE_n`` (git 2.31+), appended to ``base``'s (default: ours) entries, never in argv
    or a file. An empty value first clears any header ``actions/checkout`` persisted for the server,
    which would otherwise go along as a second ``Authorization``.
    """
    url = remote_url(cwd)
    if not token or not url or not _on_server(url, server_url):
        return None
    env = dict(os.environ if base is None else base)
    given = env.get("GIT_CONFIG_COUNT", "")
    count = int(given) if given.isdigit() else 0
    basic = base64.b64encode(f"{user}:{token}".encode()).decode("ascii")
    key = f"http.{url}.extraheader"
    env.update(
        {
            "GIT_CONFIG_COUNT": str(count + 2),
            f"GIT_CONFIG_KEY_{count}": key,
            f"GIT_CONFIG_VALUE_{count}": "",
            f"GIT_CONFIG_KEY_{count + 1}": key,
            f"GIT_CONFIG_VALUE_{count + 1}": f"AUTHORIZATION: basic {basic}",
        }
    )
    return env


def _on_server(url: str, server_url: str) -> bool:
    """Whether remote ``url`` is https, without credentials, on ``server_url``'s host, port and path."""
    remote, server = urlsplit(url), urlsplit(server_url)
    try:
        same_port = (remote.port or 443) == (server.port or 443)
    except ValueError:
        return False
    under = remote.path.startswith(server.path.rstrip("/") + "/")
    plain = remote.username is None and remote.password is None
    return (
        remote.scheme == server.scheme == "https"
        and plain
        and same_port
        and under
        and bool(remote.hostname and remote.hostname == server.hostname)
    )


def remote_url(cwd: Path, remote: str = "origin") -> str | None:
    """The fetch URL of ``remote``, or None when it does not exist."""
    url = _git(cwd, "remote", "get-url", "--end-of-options", remote, check=False)
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
