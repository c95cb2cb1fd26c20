"""Sticky comments: one comment per (target, title, author), edited in place on every run.

A hidden marker at the top of the body carries the title; ``update`` edits the newest comment
carrying it that was written by the token's own user, reading newest first and stopping at it
(so the cost does not grow with older comments), and creates one when
there is none (or when it was deleted between the listing and the edit). Each run also stamps a
nonce, so a create whose answer was lost is found again instead of posted twice.

Runs that race (two jobs updating one title at the same moment) may both create. After creating,
a run reads the comments again and converges: of our comments carrying the title it keeps the
newest (highest id, which every racing run agrees on and which ``update`` edits anyway), puts its
report there and deletes the older duplicates; a duplicate some other run deleted first is fine.
"""

from __future__ import annotations

import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from cml.errors import AuthError, ForgeError
from cml.forges import Comment, Forge, Target
from cml.forges.retry import MaybeWritten
from cml.log import logger
from cml.markdown import fit
from cml.secrets import refuse_if_found

_MARKER = re.compile(r'<!-- cml:sticky title="(?P<title>[^"]*)" run="(?P<run>[0-9a-f]+)" -->')
_ROUNDS = 4  # list-then-write rounds before giving up on comments that keep vanishing


@dataclass(frozen=True, kw_only=True)
class Posted:
    """What ``post`` did."""

    action: Literal["created", "updated"]
    url: str
    id: str
    truncated: bool = False


def new_nonce() -> str:
    """A fresh run id for the marker."""
    return secrets.token_hex(6)


def marker(title: str, nonce: str) -> str:
    """The hidden line that identifies our comment."""
    return f'<!-- cml:sticky title="{html.escape(title, quote=True)}" run="{nonce}" -->'


def parse_marker(body: str) -> tuple[str, str] | None:
    """The (title, run id) of the :func:`marker` in a comment ``body``, or None when it carries none."""
    match = _MARKER.search(body)
    return (html.unescape(match["title"]), match["run"]) if match else None


def room(title: str, limit: int) -> int:
    """How many characters of report fit in a ``limit``-character comment once the marker is added."""
    return limit - len(marker(title, new_nonce())) - 1


def _cut_note(limit: int) -> Callable[[int], str]:
    def note(dropped: int) -> str:
        return (
            f"> [!NOTE]\n> This report was cut by {dropped:,} characters to fit the forge's "
            f"{limit:,}-character limit; the full report is in the job summary and the run's artifacts."
        )

    return note


def postable(report: str, *, title: str, limit: int) -> tuple[str, bool]:
    """The part of ``report`` a ``limit``-character comment can hold (cut with the note), and whether
    it was cut. Images are looked for, uploaded and relinked in this part only, so the work stays
    bounded by the forge's limit, not by the report's size.
    """
    return fit(report, room(title, limit), _cut_note(limit))


def compose(report: str, *, title: str, nonce: str, limit: int) -> tuple[str, bool]:
    """The comment body: marker first, then the report cut to fit ``limit`` characters."""
    head = marker(title, nonce) + "\n"
    body, cut = fit(report, limit - len(head), _cut_note(limit))
    return head + body, cut


def _newest(comments: list[Comment]) -> Comment:
    """The newest of ``comments``: the highest numeric id, then the latest in listing order.

    Ids grow with creation on every forge (GitLab commit notes are ``discussion:note``), so every
    racing run that sees the same comments picks the same one.
    """

    def key(item: tuple[int, Comment]) -> tuple[int, int]:
        index, comment = item
        tail = comment.id.rpartition(":")[2]
        return (int(tail) if tail.isdigit() else -1, index)

    return max(enumerate(comments), key=key)[1]


def _carries(comment: Comment, *, title: str, author: str) -> bool:
    parsed = parse_marker(comment.body)
    return parsed is not None and parsed[0] == title and comment.author == author


def find_sticky(comments: list[Comment], *, title: str, author: str) -> Comment | None:
    """The newest comment by ``author`` whose marker carries ``title``."""
    mine = [c for c in comments if _carries(c, title=title, author=author)]
    return _newest(mine) if mine else None


def _newest_sticky(forge: Forge, target: Target, *, title: str, author: str) -> Comment | None:
    """Our newest comment carrying ``title``, reading newest first and stopping there, so the cost
    does not grow with the number of comments older than ours.
    """
    return next(
        (c for c in forge.comments_newest_first(target) if _carries(c, title=title, author=author)), None
    )


def _gone(exc: ForgeError) -> bool:
    """True when the forge answered that the comment does not exist (any more)."""
    return exc.status == 404 and not isinstance(exc, AuthError)


def _find_run(forge: Forge, target: Target, nonce: str) -> Comment | None:
    """The comment stamped with ``nonce`` (just posted, so among the newest), or None."""
    for comment in forge.comments_newest_first(target):
        parsed = parse_marker(comment.body)
        if parsed and parsed[1] == nonce:
            return comment
    return None


def create(forge: Forge, target: Target, body: str, nonce: str, attempts: int = 4) -> Comment:
    """Post ``body``; when an answer is lost, look for ``nonce`` before posting again."""
    for _ in range(attempts):
        try:
            return forge.create_comment(target, body)
        except MaybeWritten as exc:
            logger.info("the answer to a new comment was lost (%s); checking whether it landed", exc.message)
            landed = _find_run(forge, target, nonce)
            if landed:
                return landed
    raise ForgeError(f"could not post a comment on {target} after {attempts} attempts")


def _edit_newest(forge: Forge, target: Target, body: str, *, title: str, author: str) -> Comment | None:
    """Edit our newest comment carrying ``title``; None when there is none (left) to edit.

    A comment deleted between the listing and the edit (404) makes it look again.
    """
    for _ in range(_ROUNDS):
        mine = _newest_sticky(forge, target, title=title, author=author)
        if mine is None:
            return None
        try:
            return forge.update_comment(target, mine, body)
        except ForgeError as exc:
            if not _gone(exc):
                raise
            logger.info(
                "comment %s on %s was deleted before it could be edited; looking again", mine.id, target
            )
    return None


def _delete(forge: Forge, target: Target, comment: Comment) -> None:
    """Delete a duplicate; one that a racing run deleted first (404) is fine."""
    try:
        forge.delete_comment(target, comment)
    except ForgeError as exc:
        if not _gone(exc):
            raise
    logger.info(
        "removed duplicate comment %s on %s (another run posted at the same time)", comment.id, target
    )


def converge(forge: Forge, target: Target, body: str, made: Comment, *, title: str, author: str) -> Comment:
    """After creating ``made``, leave exactly one of our comments carrying ``title``: the newest.

    Re-reads the comments, deletes our older duplicates and, when the newest is another run's,
    writes ``body`` there. Returns the comment that holds the report. Raises ForgeError when the
    comments keep vanishing under us for several rounds.
    """
    # A full read: a racing run's copy may be older than ``made`` and listed after it, and the
    # run that made the newest copy may not have seen ours; stopping early would leave two.
    for _ in range(_ROUNDS):
        ours = [c for c in forge.comments(target) if _carries(c, title=title, author=author)]
        if all(c.id != made.id for c in ours):
            ours.append(made)  # not listed yet, or deleted by a racing run that saw a newer one
        keeper = _newest(ours)
        for duplicate in ours:
            if duplicate.id != keeper.id:
                _delete(forge, target, duplicate)
        if keeper.id == made.id:
            return made
        try:
            return forge.update_comment(target, keeper, body)
        except ForgeError as exc:
            if not _gone(exc):
                raise
    raise ForgeError(f"comments titled {title!r} on {target} kept vanishing while cml tried to keep one")


def post(
    forge: Forge, target: Target, body: str, *, title: str, nonce: str, sticky: bool, truncated: bool = False
) -> Posted:
    """Create a comment, or with ``sticky`` update our newest one carrying ``title``.

    A sticky create is followed by :func:`converge`, so racing runs leave one comment.
    """
    if not sticky:
        done = create(forge, target, body, nonce)
        return Posted(action="created", url=done.url, id=done.id, truncated=truncated)
    me = forge.whoami()
    edited = _edit_newest(forge, target, body, title=title, author=me)
    if edited is not None:
        return Posted(action="updated", url=edited.url, id=edited.id, truncated=truncated)
    made = create(forge, target, body, nonce)
    kept = converge(forge, target, body, made, title=title, author=me)
    action: Literal["created", "updated"] = "created" if kept.id == made.id else "updated"
    return Posted(action=action, url=kept.url, id=kept.id, truncated=truncated)


def send(forge: Forge, target: Target, report: str, *, title: str, sticky: bool) -> Posted:
    """Compose ``report`` under a fresh run marker, cut to the forge's limit, and :func:`post` it.

    Raises SecretInBody (exit 2), sending nothing, when the body holds a registered secret.
    """
    nonce = new_nonce()
    body, truncated = compose(report, title=title, nonce=nonce, limit=forge.max_comment_chars)
    refuse_if_found(body, "the comment")
    return post(forge, target, body, title=title, nonce=nonce, sticky=sticky, truncated=truncated)
