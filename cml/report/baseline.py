"""Find the baseline commit and read files at it; fall back to a report stored on its comments.

Which commit is the baseline:

* ``--base REV`` when given;
* in a PR/MR pipeline, the merge-base of HEAD and the target (``CIContext.base_sha``, else
  ``origin/<base_ref>``); in a shallow clone the base commit alone is fetched
  (``git fetch --depth=1 origin SHA``) and used as it is when the merge-base cannot be computed;
* otherwise the merge-base of HEAD and the default branch (``origin/HEAD``, ``main``, ``master``)
  when that differs from HEAD, else ``HEAD~1`` (the previous commit of a push), else none.
"""

from __future__ import annotations

import html
from pathlib import Path

from cml import proc
from cml.ci import CIContext
from cml.errors import CmlError, UsageError
from cml.forges import Forge, Target
from cml.log import logger
from cml.report.snapshot import Read, Snapshot, decode_block


def _git(root: Path, *args: str) -> str | None:
    done = proc.run(["git", "-C", str(root), *args], check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def commit(root: Path, rev: str) -> str | None:
    """The full sha ``rev`` names, or None when it names no commit here."""
    return _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")


def _shallow(root: Path) -> bool:
    return _git(root, "rev-parse", "--is-shallow-repository") == "true"


def _fetch(root: Path, rev: str) -> str | None:
    """Fetch one commit (or branch tip) from origin, shallowly in a shallow clone; None on failure."""
    logger.info("fetching %s from origin for the baseline", rev)
    depth = ["--depth=1"] if _shallow(root) else []
    if _git(root, "fetch", "--quiet", *depth, "origin", rev) is None:
        return None
    return commit(root, rev) or commit(root, "FETCH_HEAD")


def _previous(root: Path, head: str | None) -> str | None:
    """``HEAD~1``; in a shallow clone that lacks it, deepen the history by one commit first."""
    found = commit(root, "HEAD~1")
    if found is None and head and _shallow(root):
        logger.info("fetching the parent of %s from origin for the baseline", head[:7])
        _git(root, "fetch", "--quiet", "--deepen=1", "origin", head)
        found = commit(root, "HEAD~1")
    return found


def _merge_base(root: Path, a: str, b: str) -> str | None:
    return _git(root, "merge-base", a, b)


def resolve(root: Path, ctx: CIContext, explicit: str | None) -> tuple[str | None, str]:
    """The baseline commit's sha (or None) and how it was chosen, for the report header.

    ``--base`` naming no commit here or on origin is a UsageError.
    """
    head = commit(root, "HEAD")
    if explicit:
        found = commit(root, explicit) or _fetch(root, explicit)
        if found is None:
            raise UsageError(f"--base {explicit!r}: no such commit here or on origin")
        return found, f"--base {explicit}"
    if ctx.base_sha or ctx.base_ref:
        target = (ctx.base_sha and (commit(root, ctx.base_sha) or _fetch(root, ctx.base_sha))) or (
            ctx.base_ref and (commit(root, f"origin/{ctx.base_ref}") or _fetch(root, ctx.base_ref))
        )
        if target and head:
            base = _merge_base(root, head, target)
            if base:
                return base, f"the merge-base with {ctx.base_ref or target[:7]}"
            return target, f"the tip of {ctx.base_ref or target[:7]} (history too shallow for a merge-base)"
    for branch in ("origin/HEAD", "main", "master"):
        tip = commit(root, branch)
        if tip and head:
            base = _merge_base(root, head, tip)
            if base and base != head:
                return base, f"the merge-base with {branch}"
            break
    previous = _previous(root, head)
    return previous, "the previous commit" if previous else "none"


def at_commit(root: Path, sha: str) -> Read:
    """Read ``path`` (relative to the work tree root) as committed in ``sha``; None when absent."""

    def read(path: str) -> str | None:
        done = proc.run(["git", "-C", str(root), "show", f"{sha}:{path}"], check=False)
        return done.stdout if done.returncode == 0 else None

    return read


def stored(forge: Forge, sha: str, title: str | None = None) -> Snapshot | None:
    """The newest data block on commit ``sha``'s comments (an earlier report run there), or None.

    Only blocks posted by the token's own user (``forge.whoami()``) are trusted: anyone may comment
    on a public repository's commits, and a forged block would become the baseline. Among those,
    reports titled ``title`` win. Reads every comment on the commit.
    """
    mine = f'title="{html.escape(title, quote=True)}"' if title else None
    me = _me(forge)
    best: tuple[bool, Snapshot] | None = None
    ignored = 0
    for comment in forge.comments(Target(kind="commit", ref=sha)):
        decoded = decode_block(comment.body)
        if decoded is None:
            continue
        if me is None or comment.author != me:
            ignored += 1
            continue
        titled = bool(mine and mine in comment.body.split("\n", 1)[0])
        if best is None or titled >= best[0]:
            best = (titled, decoded[1])
    if ignored:
        logger.warning(
            "ignored %d stored report(s) on %s not posted by %s: only the token's own are trusted",
            ignored,
            sha[:7],
            me or "this token's user",
        )
    return best[1] if best else None


def _me(forge: Forge) -> str | None:
    """The token's login, or None when the forge will not say."""
    try:
        return forge.whoami()
    except CmlError as exc:
        logger.warning("could not tell whose comments are ours: %s", exc)
        return None
