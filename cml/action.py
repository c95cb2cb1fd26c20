"""Glue for the GitHub actions in this repository (``action.yml``, ``report/``, ``runner/``, ``bench/``).

The composite actions never put ``${{ inputs.* }}`` inside a ``run:`` script: each input reaches this
module as a ``CML_INPUT_<NAME>`` environment variable (``sort-by`` -> ``CML_INPUT_SORT_BY``). It builds
the ``cml`` argv from them without a shell, runs the command in-process (:func:`cml.cli.invoke`), and
writes the step outputs ``exit-code``, ``gate`` (pass | fail | error), ``url`` and ``report`` to
``$GITHUB_OUTPUT`` in the heredoc form (``name<<DELIMITER`` ... ``DELIMITER``), so a value may hold any
text, newlines included. ``url`` and ``report`` come from the command's typed result, never from what it
printed (so ``--json`` changes nothing).

Usage (what the actions run): ``python -m cml.action run|report|runner|bench``.
"""

from __future__ import annotations

import glob
import os
import re
import secrets
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cml.cli import Outcome, invoke
from cml.errors import GateFailed, UsageError

Kind = Literal["arg", "one", "many", "list", "bool"]


@dataclass(frozen=True, kw_only=True)
class Flag:
    """One action input and the cml option it becomes.

    ``arg``: ``VALUE`` alone, a positional argument (``flag`` only names it; a value starting with ``-``
    is refused, it would read as an option); ``one``: ``--flag VALUE`` when set; ``many``: ``--flag V`` per line; ``list``: ``--flag V1 V2 ...``
    (one option, whitespace-separated values, globs expanded as no shell runs); ``bool``: ``--flag`` when
    the input is ``true``.
    """

    input: str
    flag: str
    kind: Kind = "one"


#: Each sub-action: the cml words it runs and its inputs, in the order they become options.
SPECS: dict[str, tuple[tuple[str, ...], tuple[Flag, ...]]] = {
    "report": (
        ("report",),
        (
            Flag(input="metrics", flag="--metrics", kind="many"),
            Flag(input="params", flag="--params", kind="many"),
            Flag(input="plots", flag="--plot", kind="many"),
            Flag(input="confusion", flag="--confusion", kind="many"),
            Flag(input="base", flag="--base"),
            Flag(input="runs", flag="--runs", kind="list"),
            Flag(input="sort-by", flag="--sort-by"),
            Flag(input="all", flag="--all", kind="bool"),
            Flag(input="fail-on", flag="--fail-on", kind="many"),
            Flag(input="warn-on", flag="--warn-on", kind="many"),
            Flag(input="title", flag="--title"),
            Flag(input="output", flag="--output"),
            Flag(input="post", flag="--post", kind="bool"),
        ),
    ),
    "runner": (
        ("runner", "launch"),
        (
            Flag(input="host", flag="--host", kind="many"),
            Flag(input="labels", flag="--labels"),
            Flag(input="name", flag="--name"),
            Flag(input="mode", flag="--mode"),
            Flag(input="count", flag="--count"),
            Flag(input="idle-timeout", flag="--idle-timeout"),  # seconds, or 30m / 2h: a duration
            Flag(
                input="single", flag="--mode=single", kind="bool"
            ),  # the old input: after --mode, so it wins
            Flag(input="gpu", flag="--gpu", kind="bool"),
            Flag(input="gpu-setup", flag="--gpu-setup", kind="bool"),
        ),
    ),
    "bench": (
        ("bench",),
        (
            Flag(input="model", flag="MODEL", kind="arg"),
            Flag(input="target", flag="--target", kind="many"),
            Flag(input="variants", flag="--variants"),
            Flag(input="representative", flag="--representative"),
            Flag(input="eval", flag="--eval"),
            Flag(input="threads", flag="--threads"),
            Flag(input="runs", flag="--runs"),
            Flag(input="repeats", flag="--repeats"),
            Flag(input="baseline", flag="--baseline"),
            Flag(input="fail-on", flag="--fail-on", kind="many"),
            Flag(input="warn-on", flag="--warn-on", kind="many"),
            Flag(input="title", flag="--title"),
            Flag(input="output", flag="--output"),
            Flag(input="setup", flag="--setup", kind="bool"),
            Flag(input="benchmark-binary", flag="--benchmark-binary"),
            Flag(input="post", flag="--post", kind="bool"),
        ),
    ),
}


def env_name(name: str) -> str:
    """The variable an action input travels in: ``sort-by`` -> ``CML_INPUT_SORT_BY``."""
    return "CML_INPUT_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def build_argv(action: str, env: Mapping[str, str]) -> list[str]:
    """The cml argv for ``action`` (``run`` splits ``CML_INPUT_COMMAND`` like a shell, nothing expanded).

    Raises UsageError for an unknown action, an empty command or unbalanced quotes.
    """
    if action == "run":
        argv = _split("command", env)
        if argv[:1] == ["cml"]:
            argv = argv[1:]
        if not argv:
            raise UsageError(
                "input 'command' is empty: give a cml command such as `comment update report.md`"
            )
        return argv + _split("args", env)
    if action not in SPECS:
        raise UsageError(f"unknown action {action!r}: expected run, {', '.join(SPECS)}")
    words, flags = SPECS[action]
    argv = list(words)
    for flag in flags:
        argv += _options(flag, env.get(env_name(flag.input), "").strip())
    return argv + _split("args", env)


def _split(name: str, env: Mapping[str, str]) -> list[str]:
    """Input ``name`` split like a shell (quotes honoured, nothing expanded); UsageError when unbalanced."""
    try:
        return shlex.split(env.get(env_name(name), ""))
    except ValueError as exc:
        raise UsageError(f"input {name!r}: {exc}") from None


def _options(flag: Flag, value: str) -> list[str]:
    if not value:
        return []
    if flag.kind == "arg":
        if value.startswith("-"):
            raise UsageError(f"input {flag.input!r}: {value!r} starts with '-' and would read as an option")
        return [value]
    if flag.kind == "bool":
        if value.lower() not in ("true", "false"):
            raise UsageError(f"input {flag.input!r}: expected true or false, got {value!r}")
        return [flag.flag] if value.lower() == "true" else []
    if flag.kind == "many":
        return [part for line in value.splitlines() if line.strip() for part in (flag.flag, line.strip())]
    if flag.kind == "list":
        return [flag.flag, *(path for item in value.split() for path in _glob(item))]
    return [flag.flag, value]


def _glob(pattern: str) -> list[str]:
    """``pattern``'s matches, sorted, when it has glob characters and matches; else the pattern itself."""
    if not any(c in pattern for c in "*?["):
        return [pattern]
    return sorted(glob.glob(pattern)) or [pattern]


def outputs(argv: Sequence[str], outcome: Outcome) -> dict[str, str]:
    """The step outputs: exit code, gate verdict, the URL the command's result names (the comment,
    check, published file or preview it posted), and the report: the output folder the result names,
    else the one ``--output`` gave or the markdown file a comment command posted."""
    code = outcome.code
    gate = "pass" if code == 0 else "fail" if code == GateFailed.exit_code else "error"
    report = _folder(outcome.result)
    if report is None:
        report = ""
        if "--output" in argv[:-1]:
            report = argv[argv.index("--output") + 1]
        elif argv[:1] == ["comment"] and len(argv) > 2:
            report = argv[2]
    return {"exit-code": str(code), "gate": gate, "url": result_url(outcome.result), "report": report}


def result_url(result: object) -> str:
    """The URL in a command's typed result: a comment's, a check's, a published file's; "" when none."""
    from cml.bench.run import Outcome as Benched
    from cml.check import Checked
    from cml.comment import Posted
    from cml.publish import Published
    from cml.report.run import ReportResult

    if isinstance(result, ReportResult | Benched):
        result = result.posted
    if isinstance(result, Posted | Checked | Published):
        return result.url
    return ""


def _folder(result: object) -> str | None:
    """The output folder of a ``report`` or ``bench`` result, relative to the current directory when
    it lies under it; None for other results."""
    from cml.bench.run import Outcome as Benched
    from cml.report.run import ReportResult

    if not isinstance(result, ReportResult | Benched):
        return None
    folder = result.report.parent.resolve()
    cwd = Path.cwd().resolve()
    return str(folder.relative_to(cwd)) if folder.is_relative_to(cwd) else str(folder)


def main(argv: Sequence[str], env: Mapping[str, str]) -> int:
    """Run the action named by ``argv[0]``; write its outputs; return cml's exit code."""
    if len(argv) != 1:
        print("usage: python -m cml.action run|report|runner|bench", file=sys.stderr)
        return 2
    try:
        cml_argv = build_argv(argv[0], env)
    except UsageError as exc:
        print(f"cml: error: {exc}", file=sys.stderr)
        return exc.exit_code
    try:
        outcome = invoke(cml_argv, env)
    except SystemExit as exc:  # argparse: bad options or --help
        outcome = Outcome(code=exc.code if isinstance(exc.code, int) else 2)
    if env.get("GITHUB_OUTPUT"):
        write_outputs(Path(env["GITHUB_OUTPUT"]), outputs(cml_argv, outcome))
    return outcome.code


def output_lines(values: Mapping[str, str]) -> str:
    """``values`` in ``$GITHUB_OUTPUT``'s heredoc form, one random delimiter that no value contains.

    GitHub reads ``name<<DELIMITER``, then the value's lines up to a line that is exactly DELIMITER
    ("Multiline strings", docs.github.com/actions/reference/workflow-commands-for-github-actions), so a
    value that held the delimiter on a line of its own would end early and inject the rest as outputs.
    """
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while any(delimiter in value for value in values.values()):
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    return "".join(f"{name}<<{delimiter}\n{value}\n{delimiter}\n" for name, value in values.items())


def write_outputs(path: Path, values: Mapping[str, str]) -> None:
    """Append ``values`` to the step's output file ``path`` (``$GITHUB_OUTPUT``) with :func:`output_lines`."""
    with path.open("a", encoding="utf-8", newline="\n") as out:
        out.write(output_lines(values))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
