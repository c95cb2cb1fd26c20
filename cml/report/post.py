"""Post a written report (``cml report --post``, ``cml bench --post``) as the sticky comment."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cml import ci, comment, session, uploads
from cml.files import Tree
from cml.forges import Forge
from cml.log import logger
from cml.markdown import image_warnings, relink_images
from cml.report.budget import Section, assemble, join


def post_sections(
    ctx: ci.CIContext, forge: Forge, secs: Sequence[Section], path: Path, title: str
) -> tuple[comment.Posted, list[str]]:
    """Upload the images of the report at ``path``, fit its sections to the forge's comment limit
    (dropping the least important first) and update the sticky comment titled ``title`` on this
    PR/MR (else the commit). Returns what was posted and the titles of the sections dropped.

    Calls the forge's pulls-for-commit, asset upload and comment endpoints. Raises InputError when an
    image lies outside the report's folder (the report and its images are our own output),
    SecretInBody when the body holds a registered secret, ForgeError when the forge refuses.
    """
    where = "the job summary / the report artifact" if ctx.step_summary else f"{path}"
    target = session.resolve_target("auto", ctx, forge)
    # Relink before budgeting: a forge link is longer than the local path it replaces.
    for warning in image_warnings(join(secs)):
        logger.warning(warning)
    images = uploads.local_image_files(join(secs), path.parent, path, Tree(root=path.parent.resolve()))
    links = uploads.image_links(images, forge)
    relinked = [replace(s, body=relink_images(s.body, links)) for s in secs]
    report, dropped = assemble(relinked, comment.room(title, forge.max_comment_chars), where)
    return comment.send(forge, target, report, title=title, sticky=True), dropped
