"""``cml`` entry point: parse, dispatch to one command module, turn errors into one line + exit code.

Each command lives in its own module under ``cml.cli`` exposing ``register(subparsers)``, which
adds its parser and sets ``handler`` (``(args, env) -> Outcome | int``): it builds the typed request
from the arguments, calls one library function and prints its typed result. :func:`invoke` returns
that result with the exit code (the GitHub action builds its outputs from it); :func:`main` the code
alone. Modules import heavy libraries inside their handlers only, so ``cml --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NoReturn, TypeAlias

from cml import __version__
from cml.errors import CmlError
from cml.log import logger, redact, setup

DEBUG_HELP = "log every call (redacted) and show tracebacks"

#: What a command module's ``register`` is handed.
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


@dataclass(frozen=True, kw_only=True)
class Outcome:
    """What one command did: its exit code, the typed result of the library call it made (None when
    it failed before one), and an error to report after the result was printed (a failed gate)."""

    code: int
    result: object | None = None
    error: CmlError | None = None


Handler: TypeAlias = Callable[[argparse.Namespace, Mapping[str, str]], "Outcome | int"]

#: Command modules, in the order ``cml --help`` lists them.
COMMANDS: tuple[str, ...] = ("comment", "publish", "report", "check", "run", "runner", "bench", "assets")


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
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, help="each has its own --help"
    )
    for name in COMMANDS:
        importlib.import_module(f"cml.cli.{name}").register(sub)
    for leaf in _leaves(parser):
        if leaf is not parser:  # ``cml report --debug`` too; SUPPRESS keeps a ``cml --debug`` given first
            leaf.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    return parser


def _subparsers(
    parser: argparse.ArgumentParser,
) -> argparse._SubParsersAction[argparse.ArgumentParser] | None:
    """``parser``'s subcommand action, if it has one."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return None


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """Every parser under ``parser`` that takes no further subcommand (``parser`` itself if it takes none)."""
    action = _subparsers(parser)
    if action is None:
        return [parser]
    return [leaf for child in action.choices.values() for leaf in _leaves(child)]


def _chosen(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The deepest parser that ``args`` went through (``cml comment update`` for that command)."""
    action = _subparsers(parser)
    name = getattr(args, action.dest, None) if action is not None else None
    if action is None or name not in action.choices:
        return parser
    return _chosen(action.choices[name], args)


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """``argv`` parsed; exits 2 with one line naming the subcommand's own ``--help`` on bad input.

    argparse reports unknown options from the top parser (``cml: error: unrecognized arguments``);
    they are reported here by the subcommand that was given them instead.
    """
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        _chosen(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def invoke(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> Outcome:
    """Run one cml command; return its exit code and typed result (never raises, except SystemExit
    from --help and bad arguments). An error is printed as one line; its traceback with --debug."""
    env = os.environ if env is None else env
    args = parse(argv)
    setup(debug=args.debug)
    result: object | None = None
    try:
        handler: Handler = args.handler
        done = handler(args, env)
        if isinstance(done, int):
            return Outcome(code=done)
        result = done.result
        if done.error is not None:
            raise done.error
        return done
    except CmlError as exc:
        if args.debug:
            sys.stderr.write(redact(traceback.format_exc()))
        print(f"cml: error: {redact(str(exc))}", file=sys.stderr)
        return Outcome(code=exc.exit_code, result=result)
    except KeyboardInterrupt:
        print("cml: interrupted", file=sys.stderr)
        return Outcome(code=130, result=result)
    except Exception as exc:  # a bug: say so in one line, full trace only with --debug
        logger.debug("%s", traceback.format_exc())
        print(
            f"cml: internal error: {redact(f'{type(exc).__name__}: {exc}')} (rerun with --debug)",
            file=sys.stderr,
        )
        return Outcome(code=1, result=result)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one cml command and return its exit code (never raises, except SystemExit from --help)."""
    return invoke(argv, env).code


def entry() -> None:
    """Console-script entry point (``cml``); not named ``run``, which the submodule ``cml.cli.run`` would
    rebind on import."""
    sys.exit(main())
