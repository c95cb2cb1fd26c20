"""The CLI's parsers: help on everything, pointers to the subcommand's own --help, --debug anywhere,
and the console-script entry that a submodule import cannot shadow."""

from __future__ import annotations

import argparse
import importlib
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import cml.cli
from cml.cli import COMMANDS, build_parser, parse

ROOT = Path(__file__).resolve().parents[2]


def _walk(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, f"{path} {name}")


def test_every_option_and_argument_has_help() -> None:
    missing = [
        f"{path}: {'/'.join(a.option_strings) or a.dest}"
        for path, parser in _walk(build_parser(), "cml")
        for a in parser._actions
        if not a.help or a.help == argparse.SUPPRESS or not a.help.strip()
    ]
    assert len(list(_walk(build_parser(), "cml"))) >= 15  # the walk reaches every command and verb
    assert missing == []


def test_top_help_lists_exactly_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        parse(["--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    listed = re.findall(r"^    (\w+)\s", text, flags=re.MULTILINE)
    assert listed == list(COMMANDS)
    for name in listed:  # each one listed parses its own --help
        with pytest.raises(SystemExit) as sub:
            parse([name, "--help"])
        assert sub.value.code == 0
        assert f"usage: cml {name}" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "prog"),
    [
        (["comment", "update", "r.md", "--nope"], "cml comment update"),
        (["comment", "update"], "cml comment update"),
        (["report", "--nope"], "cml report"),
        (["runner", "launch", "--nope"], "cml runner launch"),
        (["comment"], "cml comment"),
        (["nope"], "cml"),
    ],
)
def test_errors_point_at_the_subcommands_own_help(
    argv: list[str], prog: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        parse(argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"{prog}: error: ")
    assert err.endswith(f"(see `{prog} --help`)\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["--debug", "report", "--metrics", "m.json"],
        ["report", "--debug", "--metrics", "m.json"],
        ["report", "--metrics", "m.json", "--debug"],
        ["comment", "update", "r.md", "--debug"],
    ],
)
def test_debug_is_accepted_before_or_after_the_command(argv: list[str]) -> None:
    assert parse(argv).debug is True


def test_debug_is_off_by_default() -> None:
    assert parse(["report", "--metrics", "m.json"]).debug is False


def test_entry_point_survives_importing_every_command_module() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    module, _, name = scripts["cml"].partition(":")
    assert module == "cml.cli"
    for command in COMMANDS:
        importlib.import_module(f"cml.cli.{command}")
    entry = getattr(importlib.import_module(module), name)
    assert callable(entry)
    assert entry is cml.cli.entry
    assert not isinstance(entry, type(cml.cli))  # a function, not a submodule bound over it
