"""``cml comment create|update`` as library calls: :func:`post` a markdown file as a comment, or
:func:`plan` what posting it would do without touching the forge.

The file is cut to what the forge can hold (the whole report goes to the job summary then), its
local images are uploaded through the forge and relinked, and the comment is created, or with
``sticky`` our newest one carrying the title is edited (:func:`cml.comment.send`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cml import ci, comment, session, uploads
from cml.comment import Posted
from cml.log import logger

__all__ = ["CommentRequest", "DryRun", "Posted", "plan", "post"]


@dataclass(frozen=True, kw_only=True)
class CommentRequest:
    """A markdown file to post, where, under which title, and whether to edit our last one.

    ``target``: auto, pr, pr/N, commit, commit/SHA or issue/N; ``title`` names the sticky comment
    (default: the CI workflow or job name); ``sticky``: edit our newest comment with that title,
    else create one (``cml comment update``), rather than always create (``create``).
    """

    report: Path
    target: str = "auto"
    title: str | None = None
    sticky: bool = True
    access: session.Access = field(default_factory=session.Access)


@dataclass(frozen=True, kw_only=True)
class DryRun:
    """What :func:`post` would do: nothing is sent, uploaded or written."""

    forge: ci.ForgeName
    store: Path | None  # the local forge's folder (None for a remote forge)
    uploads: tuple[tuple[str, Path], ...]  # each image source and the file that would be uploaded
    where: str  # the target as it would resolve, in words
    sticky: bool
    actor: str | None  # whose comment would be edited on the local forge
    title: str
    body: str  # the comment body with a dummy run marker, not yet redacted

    def check(self) -> None:
        """Raise SecretInBody (exit 2), as a real run would, when the body holds a registered secret."""
        from cml.secrets import refuse_if_found

        refuse_if_found(self.body, "the comment")


@dataclass(frozen=True, kw_only=True)
class _Prepared:
    ctx: ci.CIContext
    title: str
    full: str  # the whole file
    report: str  # the part the forge can hold
    cut: bool
    images: dict[str, Path]


def _prepare(request: CommentRequest, env: Mapping[str, str]) -> _Prepared:
    """Read the file, cut it to the forge's limit, find its local images (checked, not uploaded).

    Raises UsageError for a bad target, InputError for a bad file or image.
    """
    from cml.forges import COMMENT_LIMITS
    from cml.markdown import image_warnings

    session.parse_target(request.target)
    full = uploads.read_report(request.report)
    ctx = session.context(env, request.access)
    title = request.title or ctx.workflow
    # Only what the forge can hold is searched for images: bounded work whatever the report's size.
    report, cut = comment.postable(full, title=title, limit=COMMENT_LIMITS[ctx.forge])
    images = uploads.local_image_files(report, request.report.parent, request.report)
    for warning in image_warnings(report):
        logger.warning(warning)
    return _Prepared(ctx=ctx, title=title, full=full, report=report, cut=cut, images=images)


def post(request: CommentRequest, env: Mapping[str, str]) -> Posted:
    """Upload the report's images and create or (``sticky``) update the comment; return what was done.

    Calls the forge's pulls-for-commit (target ``auto``/``pr``), asset upload, comment list/create/
    edit endpoints. A report cut to fit, or a comment cut by the forge's limit, goes whole to the job
    summary. Raises UsageError/InputError (2), SecretInBody (2), ConfigError (3), ForgeError (4),
    AuthError (5).
    """
    ready = _prepare(request, env)
    forge = session.open_forge(env, request.access, ready.ctx).forge
    target = session.resolve_target(request.target, ready.ctx, forge)
    report = uploads.upload_images(ready.report, ready.images, forge)
    posted = comment.send(forge, target, report, title=ready.title, sticky=request.sticky)
    if ready.cut or posted.truncated:
        ci.append_summary(ready.ctx, ready.full if ready.cut else report)
    return posted


def plan(request: CommentRequest, env: Mapping[str, str]) -> DryRun:
    """What :func:`post` would send, without a forge call; the token (when set) is registered so
    that printing the body redacts it. Raises like :func:`post` for bad input."""
    ready = _prepare(request, env)
    session.token(ready.ctx, env, request.access, required=False)
    body, _ = comment.compose(ready.report, title=ready.title, nonce="0" * 12, limit=10**9)
    ctx = ready.ctx
    return DryRun(
        forge=ctx.forge,
        store=ctx.workdir / ".cml" if ctx.forge == "local" else None,
        uploads=tuple(ready.images.items()),
        where=session.describe_target(request.target, ctx),
        sticky=request.sticky,
        actor=ctx.actor,
        title=ready.title,
        body=body,
    )
