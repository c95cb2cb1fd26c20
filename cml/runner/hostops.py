"""The few things provisioning does on a connected host, each one remote command.

Scripts from ``runners/`` are put in a staging folder (``~/.cache/cml-runner``, mode 0700) and run
as ``sh PATH`` with their parameters and secrets on stdin (:func:`cml.runner.state.stdin_lines`).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from cml.errors import HostError
from cml.runner import Machine
from cml.runner.parts import Parts, Step
from cml.runner.state import HostState, parse_lines, parse_state, stdin_lines

#: Makes the staging folder and prints it and the host's clock, then runs status.sh from stdin.
_STATUS = (
    'd="$HOME/.cache/cml-runner" && mkdir -p "$d" && chmod 700 "$d" && '
    'echo "staging=$d" && echo "now=$(date +%s)" && sh -s'
)


def read_state(machine: Machine, parts: Parts, step: Step) -> HostState:
    """The host's runners as ``status.sh`` reports them, plus its staging folder and clock.

    One round trip: the script travels on stdin (it holds no secret). Raises HostError when it fails.
    """
    done = machine.run(_STATUS, stdin=parts.script("status.sh").encode("utf-8"), timeout=step.budget())
    if done.code != 0:
        raise HostError(f"{machine.host.name}: reading the runner state failed: {_why(done.out, done.err)}")
    return parse_state(done.out)


def stage(machine: Machine, parts: Parts, state: HostState, names: Sequence[str]) -> dict[str, str]:
    """Put the scripts ``names`` into the staging folder; return name → path on the host."""
    paths = {}
    for name in names:
        paths[name] = f"{state.staging}/{name}"
        machine.put(parts.script(name).encode("utf-8"), paths[name], mode=0o700)
    return paths


def run_script(
    machine: Machine, path: str, params: Mapping[str, str], step: Step, *, what: str
) -> dict[str, str]:
    """Run ``sh PATH`` with ``params`` on stdin; return its ``key=value`` answer.

    Raises HostError naming the host, ``what`` and the script's ``error=`` line when it exits non-zero.
    """
    done = machine.run(f"sh {shlex.quote(path)}", stdin=stdin_lines(params), timeout=step.budget())
    answer = parse_lines(done.out)
    if done.code != 0:
        reason = answer.get("error") or _why("", done.err) or f"exit {done.code}"
        raise HostError(f"{machine.host.name}: {what} failed: {reason}")
    return answer


def update_state(machine: Machine, path: str, values: Mapping[str, str], step: Step) -> None:
    """Replace the ``key=`` lines of ``values`` in the runner's state file ``path`` (owner and mode kept).

    Values are labels and numbers (checked by the caller), never secrets. Raises HostError when it fails.
    """
    p = shlex.quote(path)
    drop = " ".join(f"-e {shlex.quote('^' + key + '=')}" for key in values)
    lines = " ".join(shlex.quote(f"{key}={value}") for key, value in values.items())
    command = (
        f"{{ grep -v {drop} {p}; printf '%s\\n' {lines}; }} > {p}.new && cat {p}.new > {p} && rm -f {p}.new"
    )
    done = machine.run(command, timeout=step.budget())
    if done.code != 0:
        raise HostError(f"{machine.host.name}: updating {path} failed: {_why(done.out, done.err)}")


def _why(out: str, err: str) -> str:
    """The ``error=`` line of an answer, else the last line of stderr."""
    answer = parse_lines(out)
    lines = err.strip().splitlines()
    return answer.get("error") or (lines[-1] if lines else "")
