"""``cml`` entry point: parse, dispatch to one command module, turn errors into one line + exit code.

Each command lives in its own module under ``cml.cli`` exposing ``register(subparsers)``, which
adds its parser and sets ``handler`` (``(args, env) -> int``). Modules import heavy libraries
inside their handlers only, so ``cml --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Mapping, Sequence
from typing import NoReturn

from cml import __version__
from cml.errors import CmlError
from cml.log import logger, redact, setup

#: Command modules, in the order ``cml --help`` lists them.
COMMANDS: tuple[str, ...] = ("comment", "publish", "report", "check", "run", "runner", "bench")


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, like every other cml error (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    """The full ``cml`` parser with every command registered (subparsers inherit its class)."""
    parser = _Parser(
        prog="cml",
        description="Continuous machine learning: reports, sticky PR comments, runners, mobile benchmarks.",
    )
    parser.add_argument("--version", action="version", version=f"cml {__version__}")
    parser.add_argument("--debug", action="store_true", help="log every call (redacted) and show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"cml.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one cml command and return its exit code (never raises, except SystemExit from --help)."""
    env = os.environ if env is None else env
    args = build_parser().parse_args(argv)
    setup(debug=args.debug)
    try:
        code: int = args.handler(args, env)
    except CmlError as exc:
        if args.debug:
            sys.stderr.write(redact(traceback.format_exc()))
        print(f"cml: error: {redact(str(exc))}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("cml: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line, full trace only with --debug
        logger.debug("%s", traceback.format_exc())
        print(
            f"cml: internal error: {redact(f'{type(exc).__name__}: {exc}')} (rerun with --debug)",
            file=sys.stderr,
        )
        return 1
    return code


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
