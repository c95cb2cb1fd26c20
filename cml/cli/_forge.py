"""The forge options every command that talks to a forge shares, and their typed form.

``--token`` and ``--forge`` become a :class:`cml.session.Access`; the resolution itself (context,
token, forge, target) is :mod:`cml.session`.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping

from cml import ci, session


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


def access(args: argparse.Namespace) -> session.Access:
    """``--forge`` and ``--token`` as a :class:`cml.session.Access`."""
    return session.Access(forge=getattr(args, "forge", None), token=getattr(args, "token", None))


def context(args: argparse.Namespace, env: Mapping[str, str]) -> ci.CIContext:
    """:func:`cml.session.context` with ``--forge`` applied."""
    return session.context(env, access(args))


def token(
    args: argparse.Namespace, env: Mapping[str, str], ctx: ci.CIContext, *, required: bool = True
) -> str:
    """:func:`cml.session.token` with ``--token`` tried first."""
    return session.token(ctx, env, access(args), required=required)


def open_forge(
    args: argparse.Namespace, env: Mapping[str, str], ctx: ci.CIContext | None = None
) -> session.Session:
    """:func:`cml.session.open_forge` with ``--forge`` and ``--token`` applied."""
    return session.open_forge(env, access(args), ctx)
