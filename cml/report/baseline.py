"""Find the baseline commit and read files at it; fall back to a report stored on its comments.

Which commit is the baseline:

The head is HEAD, or the commit ``--head REV`` names.

* ``--base REV`` when given;
* in a PR/MR pipeline, the merge-base of the head and the target (``CIContext.base_sha``, else
  ``origin/<base_ref>``); in a shallow clone the base commit alone is fetched
  (``git fetch --depth=1 origin SHA``) and used as it is when the merge-base cannot be computed;
* otherwise the merge-base of the head and the default branch (``origin/HEAD``, ``main``,
  ``master``) when that differs from the head, else its parent (the previous commit of a push), else
  none.
"""

from __future__ import annotations

from pathlib import Path

from cml import git
from cml.ci import GIT_USER, CIContext
from cml.comment import parse_marker
from cml.errors import CmlError, UsageError
from cml.forges import Forge, Target
from cml.log import logger
from cml.report.snapshot import BlockKind, Read, Snapshot, decode_block


def commit(root: Path, rev: str) -> str | None:
    """The full sha ``rev`` names, or None when it names no commit here."""
    return git.commit(root, rev)


class _Origin:
    """Fetches from origin, with the forge token in git's environment when origin is the forge's."""

    def __init__(self, root: Path, ctx: CIContext, token: str) -> None:
        self.root = root
        self.ctx = ctx
        self.token = token

    def fetch(self, rev: str, *extra: str) -> bool:
        """``git fetch origin REV`` (False on failure); see :func:`cml.git.credentials_env`."""
        env = git.credentials_env(
            self.root, server_url=self.ctx.server_url, user=GIT_USER[self.ctx.forge], token=self.token
        )
        return git.fetch(self.root, rev, extra=extra, env=env)

    def commit(self, rev: str, purpose: str = "the baseline") -> str | None:
        """Fetch one commit (or branch tip), shallowly in a shallow clone; its sha, None on failure."""
        if not git.fetchable(rev):
            return None
        logger.info("fetching %s from origin for %s", rev, purpose)
        if not self.fetch(rev, *(["--depth=1"] if git.is_shallow(self.root) else [])):
            return None
        return commit(self.root, "FETCH_HEAD")

    def previous(self, head: str | None) -> str | None:
        """``head``'s first parent; in a shallow clone that lacks it, deepen the history by one commit
        first. None without a head."""
        if not head:
            return None
        found = commit(self.root, f"{head}~1")
        if found is None and git.is_shallow(self.root):
            logger.info("fetching the parent of %s from origin for the baseline", head[:7])
            self.fetch(head, "--deepen=1")
            found = commit(self.root, f"{head}~1")
        return found


def resolve(
    root: Path, ctx: CIContext, explicit: str | None, token: str = "", *, head_rev: str | None = None
) -> tuple[str | None, str]:
    """The baseline commit's sha (or None) and how it was chosen, for the report header; the head is
    ``head_rev`` (``--head``, resolved by :func:`cml.report.head.commit`), else HEAD.

    ``--base`` naming no commit here or on origin is a UsageError. Fetches go to origin with
    ``token`` in git's environment when origin is https on the forge's server (never in argv).
    """
    from cml.report.head import commit as head_commit

    origin = _Origin(root, ctx, token)
    head = head_commit(root, head_rev) if head_rev is not None else commit(root, "HEAD")
    if explicit:
        return _explicit(root, origin, explicit)
    if ctx.base_sha or ctx.base_ref:
        target = (ctx.base_sha and (commit(root, ctx.base_sha) or origin.commit(ctx.base_sha))) or (
            ctx.base_ref and (commit(root, f"origin/{ctx.base_ref}") or origin.commit(ctx.base_ref))
        )
        if target and head:
            base = git.merge_base(root, head, target)
            if base:
                return base, f"the merge-base with {ctx.base_ref or target[:7]}"
            return target, f"the tip of {ctx.base_ref or target[:7]} (history too shallow for a merge-base)"
    for branch in ("origin/HEAD", "main", "master"):
        tip = commit(root, branch)
        if tip and head:
            base = git.merge_base(root, head, tip)
            if base and base != head:
                return base, f"the merge-base with {branch}"
            break
    previous = origin.previous(head)
    return previous, "the previous commit" if previous else "none"


def _explicit(root: Path, origin: _Origin, rev: str) -> tuple[str, str]:
    """``--base REV`` resolved here, else fetched from origin; UsageError naming REV when neither."""
    return _here_or_fetched(root, origin, rev, "--base", "the baseline"), f"--base {rev}"


def head_commit(root: Path, ctx: CIContext, token: str, rev: str) -> str:
    """``--head REV``'s sha: here, else fetched from origin (as ``--base`` is, shallowly in a shallow
    clone); UsageError naming REV when neither has it."""
    return _here_or_fetched(root, _Origin(root, ctx, token), rev, "--head", "the head")


def _here_or_fetched(root: Path, origin: _Origin, rev: str, flag: str, purpose: str) -> str:
    found = commit(root, rev) or origin.commit(rev, purpose)
    if found is None:
        why = "here or on origin" if git.fetchable(rev) else "here (and it is no branch, tag or sha to fetch)"
        raise UsageError(f"{flag} {rev!r}: no such commit {why}")
    return found


def at_commit(root: Path, sha: str) -> Read:
    """Read ``path`` (relative to the work tree root) as committed in ``sha``; None when absent."""

    def read(path: str) -> str | None:
        return git.show(root, sha, path)

    return read


def stored(forge: Forge, sha: str, title: str | None = None, kind: BlockKind = "report") -> Snapshot | None:
    """The newest data block of ``kind`` on commit ``sha``'s comments (an earlier report run there, or
    an earlier ``cml bench`` run with ``kind="bench"``), or None.

    Only blocks posted by the token's own user (``forge.whoami()``) are trusted: anyone may comment
    on a public repository's commits, and a forged block would become the baseline. Among those,
    reports titled ``title`` win. Reads every comment on the commit.
    """
    me = _me(forge)
    best: tuple[bool, Snapshot] | None = None
    ignored = 0
    for comment in forge.comments(Target(kind="commit", ref=sha)):
        decoded = decode_block(comment.body, kind)
        if decoded is None:
            continue
        if me is None or comment.author != me:
            ignored += 1
            continue
        marked = parse_marker(comment.body)
        titled = bool(title) and marked is not None and marked[0] == title
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
