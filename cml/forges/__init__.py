"""The forge interface: one Protocol, one registry, three implementations.

``github`` (PyGithub), ``gitlab`` (python-gitlab) and ``local`` (comments kept under ``.cml/`` in
the work tree with an HTML preview). Nothing outside a forge's own module knows which one it talks to.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

from cml.ci import CIContext, ForgeName

TargetKind = Literal["pr", "commit", "issue"]


@dataclass(frozen=True, kw_only=True)
class Target:
    """What a comment is attached to: a PR/MR (number/iid), a commit (sha) or an issue."""

    kind: TargetKind
    ref: str

    def __str__(self) -> str:
        return f"{self.kind}/{self.ref}"


@dataclass(frozen=True, kw_only=True)
class Comment:
    """A comment as the forge stores it."""

    id: str
    body: str
    author: str
    url: str


Conclusion = Literal["success", "failure", "neutral"]
#: The longest commit status description: GitHub refuses more ("description is too long (maximum is
#: 140 characters)", a 422); GitLab's statuses get the same cut.
STATUS_DESCRIPTION_CHARS = 140


@dataclass(frozen=True, kw_only=True)
class Status:
    """A check / commit status: ``name`` identifies it (re-posting the same name replaces it)."""

    name: str
    conclusion: Conclusion
    title: str  # one line; a commit status shows its first STATUS_DESCRIPTION_CHARS characters
    summary: str = ""  # markdown; GitHub check runs keep 65,535 characters
    details_url: str | None = None

    @property
    def description(self) -> str:
        """The title as a commit status description: cut to :data:`STATUS_DESCRIPTION_CHARS`."""
        return self.title[:STATUS_DESCRIPTION_CHARS]


@dataclass(frozen=True, kw_only=True)
class StoredAsset:
    """One file the forge keeps for comments' images: the ``name`` links carry, when it was stored
    (at the latest), and the forge's own handle on it (a blob sha, an upload id, a path).
    """

    name: str
    stored_at: datetime
    key: str


@dataclass(frozen=True, kw_only=True)
class AssetStore:
    """Everything the forge keeps for comments' images, read at one moment; ``version`` names that
    moment where the forge has one (the assets branch's head commit on GitHub), else "".
    """

    where: str
    assets: tuple[StoredAsset, ...]
    version: str = ""


class Forge(Protocol):
    """What cml needs from a forge. Every method retries transient faults itself."""

    name: ForgeName
    #: The longest comment body the forge accepts, in characters.
    max_comment_chars: int

    def whoami(self) -> str:
        """The login of the user the token belongs to (comments are only edited when theirs)."""
        ...

    def pr_for_commit(self, sha: str) -> int | None:
        """The newest open PR/MR whose head is ``sha``, or None."""
        ...

    def comments(self, target: Target) -> Iterator[Comment]:
        """Every comment on ``target``, oldest first, across all pages."""
        ...

    def comments_newest_first(self, target: Target) -> Iterator[Comment]:
        """The comments on ``target``, newest first, reading pages lazily: a caller that stops early
        pays only for what it read (where the forge cannot list newest first, a full read).
        """
        ...

    def create_comment(self, target: Target, body: str) -> Comment:
        """Post a new comment. Raises :class:`cml.forges.retry.MaybeWritten` if it may have landed."""
        ...

    def update_comment(self, target: Target, comment: Comment, body: str) -> Comment:
        """Replace ``comment``'s body. Raises ForgeError with status 404 when it no longer exists."""
        ...

    def delete_comment(self, target: Target, comment: Comment) -> None:
        """Delete ``comment``. Raises ForgeError with status 404 when it is already gone."""
        ...

    def upload_assets(self, paths: Sequence[Path]) -> dict[Path, str]:
        """Store local files where only people who can read the repo can; return each one's link."""
        ...

    def set_status(self, sha: str, status: Status) -> str:
        """Report a gate result on commit ``sha`` (GitHub: a check run; GitLab: a commit status).

        Returns the URL of what was created.
        """
        ...

    def stored_assets(self, since: datetime) -> AssetStore:
        """What :meth:`upload_assets` has stored; a file stored at ``since`` or later may carry that
        date instead of its own (the forge need not look further back to tell it is recent).
        """
        ...

    def bodies_since(self, since: datetime) -> Iterator[str]:
        """The body of every comment in the project updated at ``since`` or later (more is harmless)."""
        ...

    def linked_assets(self, body: str) -> set[str]:
        """The names of stored assets that ``body`` links, as :meth:`upload_assets` writes links."""
        ...

    def remove_assets(self, store: AssetStore, keep: frozenset[str]) -> None:
        """Remove every asset of ``store`` whose name is not in ``keep``; what is kept stays linkable.

        Raises :class:`cml.errors.ForgeError` (the store left as it was where the forge can promise it).
        """
        ...


def make_forge(ctx: CIContext, token: str, options: Mapping[str, str] | None = None) -> Forge:
    """Instantiate the forge ``ctx.forge`` names (imported lazily: each pulls a heavy client)."""
    module = importlib.import_module(f"cml.forges.{ctx.forge}")
    forge: Forge = module.create(ctx, token, dict(options or {}))
    return forge


#: The longest comment body each forge accepts, in characters (GitHub: 65,536; GitLab notes: 1,000,000).
COMMENT_LIMITS: dict[ForgeName, int] = {"github": 65_536, "gitlab": 1_000_000, "local": 1_000_000}
