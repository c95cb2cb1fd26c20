"""The few things provisioning does on a connected host, each one remote command (or one SFTP batch).

Files go to a staging folder, ``$HOME/.cache/cml-runner`` (mode 0700) of the login user: the scripts
of ``runners/`` all in ONE folder named after their content (``scripts-<hash>``, so a rerun of the same
cml finds them and a new cml never runs old scripts), packages as ``pkg/<sha256>``. Scripts run as
``sh FOLDER/SCRIPT`` with their parameters and secrets on stdin (:func:`cml.runner.state.stdin_lines`).
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping

from cml.errors import HostError
from cml.runner import Done, Machine, Probe
from cml.runner.parts import Parts, Step
from cml.runner.state import HostState, parse_lines, parse_state, stdin_lines

#: The line between the probe's answer and the state's in :func:`survey`'s output.
_SPLIT = "cml-survey=state"
#: Creates the staging folder, probes (probe.sh on stdin), then reads the state when the scripts are
#: there and lists the packages there. {scripts} is the scripts folder's name (a hex digest).
_SURVEY = """\
d="$HOME/.cache/cml-runner"
[ -d "$d/{scripts}" ] || {{ mkdir -p "$d/pkg" "$d/{scripts}" && chmod 700 "$d"; }} || exit 1
sh -s -- "${{CML_RUNNER_HOME:-$HOME}}" || exit $?
echo {split}
echo "staging=$d"
echo "now=$(date +%s)"
for f in "$d"/pkg/*; do [ -f "$f" ] && echo "package=${{f##*/}}"; done
if [ -f "$d/{scripts}/.complete" ]; then
    echo scripts=ready
    sh "$d/{scripts}/status.sh" </dev/null
else
    echo scripts=missing
fi
"""


def bundle(parts: Parts) -> str:
    """The scripts folder's name: ``scripts-`` and a digest of every file's name and text."""
    digest = hashlib.sha256()
    for name in parts.script_names:
        digest.update(f"{name}\0{parts.script(name)}\0".encode())
    return f"scripts-{digest.hexdigest()[:16]}"


def survey(machine: Machine, parts: Parts, step: Step) -> tuple[Probe, HostState]:
    """What the host is and what runs there, in one round trip (two on the first visit of this cml
    version: the scripts are put there first, then ``status.sh`` runs).

    The probe measures free disk in ``$CML_RUNNER_HOME`` (else the login home). Raises HostError
    naming the host when the probe or ``status.sh`` fails (and as :func:`cml.runner.probe.parse`).
    """
    folder = bundle(parts)
    command = _SURVEY.format(scripts=folder, split=_SPLIT)
    done = machine.run(command, stdin=parts.script("probe.sh").encode(), timeout=step.budget())
    probe_out, _, state_out = done.out.partition(_SPLIT + "\n")
    if done.code != 0 or not state_out:
        raise HostError(f"host {machine.host.name}: the probe failed: {_why(done) or f'exit {done.code}'}")
    probe = parts.parse_probe(probe_out, machine.host)
    state = parse_state(state_out)
    if not state.scripts_ready:
        step("copy scripts")
        _stage(machine, parts, f"{state.staging}/{folder}")
        step("read state")
        again = machine.run(f"sh {shlex.quote(f'{state.staging}/{folder}/status.sh')} </dev/null")
        if again.code != 0:
            raise HostError(f"host {machine.host.name}: reading the runner state failed: {_why(again)}")
        fresh = parse_state(again.out)
        state = HostState(
            runners=fresh.runners,
            now=state.now,
            staging=state.staging,
            home=fresh.home,
            scripts_ready=True,
            packages=state.packages,
        )
    return probe, state


def _stage(machine: Machine, parts: Parts, folder: str) -> None:
    """Put every script file into ``folder`` (SFTP, atomic per file), then the ``.complete`` marker."""
    for name in parts.script_names:
        machine.put(parts.script(name).encode(), f"{folder}/{name}", mode=0o600)
    machine.put(b"", f"{folder}/.complete", mode=0o600)


def script(state: HostState, parts: Parts, name: str) -> str:
    """The path of script ``name`` on the host (staged by :func:`survey`)."""
    return f"{state.staging}/{bundle(parts)}/{name}"


def package_path(state: HostState, sha256: str) -> str:
    """Where the package with this sha256 sits in the staging folder."""
    return f"{state.staging}/pkg/{sha256}"


def run_script(
    machine: Machine, path: str, params: Mapping[str, str], step: Step, *, what: str
) -> dict[str, str]:
    """Run ``sh PATH`` with ``params`` on stdin; return its ``key=value`` answer.

    Raises HostError naming the host, ``what`` and the script's ``error=`` line when it exits non-zero.
    """
    done = machine.run(f"sh {shlex.quote(path)}", stdin=stdin_lines(params), timeout=step.budget())
    answer = parse_lines(done.out)
    if done.code != 0:
        reason = answer.get("error") or _why(done) or f"exit {done.code}"
        raise HostError(f"host {machine.host.name}: {what} failed: {reason}")
    return answer


def _why(done: Done) -> str:
    """The ``error=`` line of an answer, else the last line of stderr."""
    lines = done.err.strip().splitlines()
    return parse_lines(done.out).get("error") or (lines[-1][:200] if lines else "")
