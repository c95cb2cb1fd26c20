"""The forge options every command that talks to a forge shares, and their typed form.

``--token`` and ``--forge`` become a :class:`cml.session.Access`; the resolution itself (context,
token, forge, target) is :mod:`cml.session`.
"""

from __future__ import annotations

import argparse

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
