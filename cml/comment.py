"""Sticky comments: one comment per (target, title, author), edited in place on every run.

A hidden marker at the top of the body carries the title; ``update`` edits the newest comment
carrying it that was written by the token's own user, searching every page, and creates one when
there is none. Each run also stamps a nonce, so a create whose answer was lost is found again
instead of posted twice.
"""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Literal

from cml.errors import ForgeError
from cml.forges import Comment, Forge, Target
from cml.forges.retry import MaybeWritten
from cml.log import logger
from cml.markdown import fit
from cml.secrets import refuse_if_found

_MARKER = re.compile(r'<!-- cml:sticky title="(?P<title>[^"]*)" run="(?P<run>[0-9a-f]+)" -->')


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


def _parse(body: str) -> tuple[str, str] | None:
    match = _MARKER.search(body)
    return (html.unescape(match["title"]), match["run"]) if match else None


def room(title: str, limit: int) -> int:
    """How many characters of report fit in a ``limit``-character comment once the marker is added."""
    return limit - len(marker(title, new_nonce())) - 1


def compose(report: str, *, title: str, nonce: str, limit: int) -> tuple[str, bool]:
    """The comment body: marker first, then the report cut to fit ``limit`` characters."""
    head = marker(title, nonce) + "\n"

    def note(dropped: int) -> str:
        return (
            f"> [!NOTE]\n> This report was cut by {dropped:,} characters to fit the forge's "
            f"{limit:,}-character limit; the full report is in the job summary and the run's artifacts."
        )

    body, cut = fit(report, limit - len(head), note)
    return head + body, cut


def find_sticky(comments: list[Comment], *, title: str, author: str) -> Comment | None:
    """The newest comment by ``author`` whose marker carries ``title``."""
    for comment in reversed(comments):
        parsed = _parse(comment.body)
        if parsed and parsed[0] == title and comment.author == author:
            return comment
    return None


def _find_run(forge: Forge, target: Target, nonce: str) -> Comment | None:
    for comment in forge.comments(target):
        parsed = _parse(comment.body)
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


def post(
    forge: Forge, target: Target, body: str, *, title: str, nonce: str, sticky: bool, truncated: bool = False
) -> Posted:
    """Create a comment, or with ``sticky`` update our newest one carrying ``title``."""
    if sticky:
        me = forge.whoami()
        mine = find_sticky(list(forge.comments(target)), title=title, author=me)
        if mine is not None:
            done = forge.update_comment(target, mine, body)
            return Posted(action="updated", url=done.url, id=done.id, truncated=truncated)
    done = create(forge, target, body, nonce)
    return Posted(action="created", url=done.url, id=done.id, truncated=truncated)


def send(forge: Forge, target: Target, report: str, *, title: str, sticky: bool) -> Posted:
    """Compose ``report`` under a fresh run marker, cut to the forge's limit, and :func:`post` it.

    Raises SecretInBody (exit 2), sending nothing, when the body holds a registered secret.
    """
    nonce = new_nonce()
    body, truncated = compose(report, title=title, nonce=nonce, limit=forge.max_comment_chars)
    refuse_if_found(body, "the comment")
    return post(forge, target, body, title=title, nonce=nonce, sticky=sticky, truncated=truncated)
