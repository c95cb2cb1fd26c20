"""``cml run --image IMAGE [options] -- CMD...``: run a command in a container the way a CI job would."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping

from cml import container
from cml.cli import Outcome, Subparsers

_DESCRIPTION = """\
Run CMD in a Docker container: the workspace (the git work tree, else the current directory) is mounted
at the same path and the current directory is the working directory; the command runs as your uid:gid,
so files it writes belong to you (HOME is /tmp unless you pass one). Only variables named with --env
reach it. Output streams live; cml exits with the container's exit code, 124 after --timeout, 130 on
Ctrl-C, and the container is removed when cml exits, times out or is interrupted. If cml is killed, it stops
(a watchdog in it sees cml's end of a pipe close) and the next `cml run` on this host removes it."""


def register(sub: Subparsers) -> None:
    """Add ``run``."""
    p = sub.add_parser(
        "run",
        help="run a command in a Docker container with the workspace mounted",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--image", required=True, help="image to run (pulled when missing, see --pull)")
    p.add_argument("--gpus", metavar="all|N|device=ID,...", help="GPUs to pass (needs the NVIDIA runtime)")
    p.add_argument(
        "--env",
        "-e",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="pass NAME with your value (or VALUE); nothing else of your environment is passed",
    )
    p.add_argument("--volume", "-v", action="append", default=[], metavar="SRC:DST[:ro]", help="extra mount")
    p.add_argument("--timeout", type=float, metavar="S", help="kill the container after S seconds (exit 124)")
    p.add_argument("--network", help="docker network mode (default: the daemon's), e.g. none or host")
    p.add_argument("--pull", choices=container.PULLS, default="missing", help="when to pull IMAGE")
    p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- CMD...",
        help="the command to run in the container, after --",
    )
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace, env: Mapping[str, str]) -> Outcome:
    """Run the command in a container (:func:`cml.container.run`); exit with the container's exit code."""
    request = container.RunRequest(
        image=args.image,
        command=tuple(args.command),
        env=tuple(args.env),
        volumes=tuple(args.volume),
        gpus=args.gpus,
        timeout=args.timeout,
        network=args.network,
        pull=args.pull,
    )
    sys.stdout.flush()
    return Outcome(code=container.run(request, env, sys.stdout.buffer, sys.stderr.buffer))
