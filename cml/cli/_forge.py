"""What the commands that talk to a forge share: options, context, token, target, report loading."""

from __future__ import annotations

import argparse
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cml import ci, files
from cml.errors import InputError, UsageError
from cml.forges import Forge, Target, make_forge
from cml.log import logger, register_secret
from cml.markdown import local_images, relink_images


def add_forge_options(parser: argparse.ArgumentParser) -> None:
    """``--token`` and ``--forge``, shared by every command that talks to a forge."""
    parser.add_argument(
        "--token",
        help="forge token (prefer the REPO_TOKEN / GITHUB_TOKEN / GITLAB_TOKEN variables: argv is visible to "
        "other processes)",
    )
    parser.add_argument(
        "--forge",
        choices=ci.TOKEN_VARS.keys(),
        help="override the forge detected from the CI (default: github on GitHub Actions, gitlab on GitLab CI, "
        "else local)",
    )


@dataclass(frozen=True)
class Session:
    """A detected CI context and the forge it talks to."""

    ctx: ci.CIContext
    forge: Forge


def context(args: argparse.Namespace, env: Mapping[str, str]) -> ci.CIContext:
    """The CI context, with ``--forge`` applied (ConfigError naming what that forge still needs)."""
    ctx = ci.detect(env)
    forge = getattr(args, "forge", None)
    return ci.with_forge(ctx, forge, env) if forge else ctx


def token(
    args: argparse.Namespace, env: Mapping[str, str], ctx: ci.CIContext, *, required: bool = True
) -> str:
    """The forge's token (stripped), registered for redaction before anything else sees it.

    Raises ConfigError when it holds a character no token has, and when ``required`` and none is
    set; else answers "" for none.
    """
    try:
        value, _source = ci.resolve_token(ctx.forge, env, getattr(args, "token", None))
    except ci.NoToken:
        if required:
            raise
        return ""
    if value:
        register_secret(value, env)
    return value


def open_forge(args: argparse.Namespace, env: Mapping[str, str], ctx: ci.CIContext | None = None) -> Session:
    """Resolve the token (registering it for redaction first) and instantiate the forge."""
    ctx = ctx or context(args, env)
    value = token(args, env, ctx)
    if (getattr(args, "token", None) or "").strip():
        logger.warning(
            "cml: warning: --token is visible to other processes on this machine; prefer REPO_TOKEN"
        )
    options = {"assets_branch": env["CML_ASSETS_BRANCH"]} if env.get("CML_ASSETS_BRANCH") else {}
    return Session(ctx, make_forge(ctx, value, options))


_TARGET = re.compile(r"^(?P<kind>auto|pr|commit|issue)(?:/(?P<ref>[^/\s]+))?$")


def parse_target(spec: str) -> tuple[str, str | None]:
    """Split ``auto|pr|pr/N|commit|commit/SHA|issue/N``; raise UsageError for anything else."""
    match = _TARGET.match(spec)
    kind, ref = (match["kind"], match["ref"]) if match else ("", None)
    if not match or (kind == "auto" and ref) or (kind == "issue" and not ref):
        raise UsageError(f"--target {spec!r}: expected auto, pr, pr/N, commit, commit/SHA or issue/N")
    if kind in ("pr", "issue") and ref and not ref.isdigit():
        raise UsageError(f"--target {spec!r}: {kind} number must be an integer")
    if kind == "commit" and ref and not re.fullmatch(r"[0-9a-fA-F]{4,40}", ref):
        raise UsageError(f"--target {spec!r}: not a commit sha")
    return kind, ref


def describe_target(spec: str, ctx: ci.CIContext) -> str:
    """How ``spec`` would resolve, without asking the forge (``--dry-run``)."""
    kind, ref = parse_target(spec)
    if ref:
        return f"{kind}/{ref}"
    if kind in ("auto", "pr") and ctx.pr is not None:
        return f"pr/{ctx.pr}"
    if kind == "commit" or (kind == "auto" and ctx.forge == "local"):  # the local forge has no PRs
        return f"commit/{ctx.sha}"
    tail = f", else commit/{ctx.sha}" if kind == "auto" else ""
    return f"the open PR/MR whose head is {ctx.sha}{tail}"


def resolve_target(spec: str, ctx: ci.CIContext, forge: Forge) -> Target:
    """``auto`` = this pipeline's PR/MR, else the open one whose head is this commit, else the commit."""
    kind, ref = parse_target(spec)
    if ref:
        return Target(kind=kind, ref=ref)  # type: ignore[arg-type]
    if kind in ("auto", "pr"):
        number = ctx.pr if ctx.pr is not None else forge.pr_for_commit(ctx.sha)
        if number is not None:
            return Target(kind="pr", ref=str(number))
        if kind == "pr":
            raise UsageError(f"--target pr: no open pull/merge request has head {ctx.sha}")
    return Target(kind="commit", ref=ctx.sha)


def read_report(path: Path, where: files.Tree | None = None) -> str:
    """The report's text; InputError when it resolves outside the work tree ``where`` (default: the
    one holding the current directory) or into a git directory, is missing, not a regular file, over
    :data:`cml.files.REPORT_CAP`, binary, not UTF-8 or empty."""
    resolved = (where or files.tree()).check(path, str(path))
    data = files.read_bytes(resolved, files.REPORT_CAP, str(path))
    if b"\0" in data:
        raise InputError(f"{path}: is a binary file, expected markdown text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if not text.strip():
        raise InputError(f"{path}: is empty")
    return text


IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"})


def local_image_files(
    report: str, base: Path, origin: Path, where: files.Tree | None = None
) -> dict[str, Path]:
    """Each local image in ``report`` (relative to ``base``) and its resolved file.

    Raises InputError naming the report and the first image that resolves (through ``..`` or a
    symlink) outside the work tree ``where`` (default: the one holding the current directory) or into
    a git directory, is not an image file, is missing, is not a regular file, or is over
    :data:`cml.files.ASSET_CAP`: a report from an untrusted fork must not be able to upload
    ``.git/config`` or ``/proc/self/environ``.
    """
    tree = where or files.tree()
    found: dict[str, Path] = {}
    for src in local_images(report):
        name = f"{origin}: image {src!r}"
        path = tree.check(base / src, name)  # src is the decoded file name, query and fragment dropped
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise InputError(f"{origin}: {src!r} is not an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
        try:
            files.check_regular(path, files.ASSET_CAP, name)
        except files.Missing:
            raise InputError(f"{name} not found (looked for {path})") from None
        found[src] = path
    return found


def image_links(files: Mapping[str, Path], forge: Forge) -> dict[str, str]:
    """Upload each image file once through the forge; map every source that names it to its link."""
    if not files:
        return {}
    links = forge.upload_assets(sorted(set(files.values())))
    return {src: links[path] for src, path in files.items()}


def upload_images(report: str, files: Mapping[str, Path], forge: Forge) -> str:
    """Upload the report's local images through the forge and point the report at them."""
    return relink_images(report, image_links(files, forge)) if files else report
