"""Reaching a forge from Python: the CI context, the token, the forge itself, a comment's target.

Every command that talks to a forge goes through here (the CLI's ``--forge``/``--token`` become an
:class:`Access`), so a Python caller gets the same detection, token order and redaction::

    from cml import session
    s = session.open_forge(os.environ, session.Access())
    target = session.resolve_target("auto", s.ctx, s.forge)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cml import ci
from cml.errors import UsageError
from cml.forges import Forge, Target, make_forge
from cml.log import logger, register_secret


@dataclass(frozen=True, kw_only=True)
class Access:
    """Which forge to talk to and with what token, when not the ones the CI environment names.

    ``forge``: override the detected forge (github, gitlab, local); ``token``: a token given
    explicitly (the CLI's ``--token``), tried before ``REPO_TOKEN`` and the forge's own variable.
    """

    forge: ci.ForgeName | None = None
    token: str | None = None


@dataclass(frozen=True)
class Session:
    """A detected CI context and the forge it talks to."""

    ctx: ci.CIContext
    forge: Forge


def context(env: Mapping[str, str], access: Access = Access(), cwd: Path | None = None) -> ci.CIContext:
    """The CI context ``env`` describes (for the work tree holding ``cwd``), with ``access.forge``
    applied; ConfigError naming what that forge still needs."""
    ctx = ci.detect(env, cwd)
    return ci.with_forge(ctx, access.forge, env) if access.forge else ctx


def token(
    ctx: ci.CIContext, env: Mapping[str, str], access: Access = Access(), *, required: bool = True
) -> str:
    """The forge's token (stripped), registered for redaction before anything else sees it.

    Raises ConfigError when it holds a character no token has, and when ``required`` and none is
    set; else answers "" for none.
    """
    try:
        value, _source = ci.resolve_token(ctx.forge, env, access.token)
    except ci.NoToken:
        if required:
            raise
        return ""
    if value:
        register_secret(value, env)
    return value


def open_forge(env: Mapping[str, str], access: Access = Access(), ctx: ci.CIContext | None = None) -> Session:
    """Resolve the token (registering it for redaction first) and instantiate the forge.

    Raises ConfigError when no usable token is set for a forge that needs one. Warns that a token
    given explicitly (``--token``) is visible to other processes. ``CML_ASSETS_BRANCH`` names the
    branch GitHub keeps uploaded images on.
    """
    ctx = ctx or context(env, access)
    value = token(ctx, env, access)
    if (access.token or "").strip():
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
    """``auto`` = this pipeline's PR/MR, else the open one whose head is this commit, else the commit.

    May call the forge's "pulls for a commit" endpoint (``forge.pr_for_commit``); UsageError for a
    bad ``spec`` or for ``pr`` when no open PR/MR has this commit as its head.
    """
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
