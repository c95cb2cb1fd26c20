"""Launch, status, teardown and gc of the runners on ONE host: the library behind ``cml runner``.

``launch``: connect → probe → labels (probe + the user's) → ``--gpu`` check → the host's state and the
forge's runner list → a plan (:mod:`cml.runner.plan`). ``--dry-run`` returns the plan, registering
nothing. Otherwise :mod:`cml.runner.install` carries it out: the package is fetched once on the
controller and put on the host, each runner's secret is minted right before the install script reads
it on stdin. Same inputs again: "unchanged"; changed labels: set in place. Ctrl-C, the host's timeout
or a lost connection rolls back what the launch created; a rerun converges.

``teardown``: stop and unregister on the host (fresh remove token), then delete through the API; an
unreachable host's runners are deleted through the API by id. ``gc``: the forge's offline runners
named ``cml-*`` (:func:`gc_offline`), and per host the runners idle longer than the idle timeout,
judged from the forge's ``busy`` flag and the job end time the runner's hook wrote on the host.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from cml.errors import HostError
from cml.log import logger
from cml.runner import Host, HostResult, Machine, RemoteRunner, install
from cml.runner import hostops as ops
from cml.runner.parts import Parts, Step
from cml.runner.plan import LaunchOptions, describe, make, planned
from cml.runner.state import PREFIX, HostState, RunnerState, belongs, slug

__all__ = [
    "PREFIX",
    "GcOptions",
    "LaunchOptions",
    "TeardownOptions",
    "gc",
    "gc_offline",
    "launch",
    "status",
    "teardown",
]


@dataclass(frozen=True, kw_only=True)
class TeardownOptions:
    """``cml runner teardown`` (and ``status``) for one host."""

    name: str | None = None  # the --name given at launch
    dry_run: bool = False


@dataclass(frozen=True, kw_only=True)
class GcOptions:
    """``cml runner gc``."""

    prefix: str = PREFIX
    idle_timeout: int | None = None  # seconds; None: each runner's own, recorded at launch
    dry_run: bool = False


def launch(host: Host, opts: LaunchOptions, parts: Parts, step: Step) -> HostResult:
    """Provision ``host``'s runners as ``opts`` says; return what was done (or, ``dry_run``, planned).

    Raises HostError (unreachable, host key refused, a script failed, timed out), ForgeError/AuthError
    (forge), ConfigError (``--gpu`` on a host without a working GPU), Interrupted (Ctrl-C): after
    rolling back what this call created.
    """
    step("connect")
    with parts.connect(host) as machine:
        step("probe")
        probe, state = ops.survey(machine, parts, step)
        labels = parts.labels(probe, (*host.labels, *opts.labels))
        if opts.gpu:
            parts.require_gpu(probe, host)
        plan = make(host, opts, parts, state, labels)
        if opts.dry_run:
            return planned(host, probe, plan, parts)
        done = install.apply(machine, opts, parts, step, probe, state, plan)
    changed = plan.install or plan.remove
    details = {**done, **_gpu_warning(probe.gpus != (), probe.nvidia_toolkit, opts.gpu_setup)}
    return HostResult(
        host=host.name,
        ok=True,
        action="launched" if changed else "updated" if plan.update else "unchanged",
        runners=plan.names,
        labels=labels,
        message=plan.summary(),
        details=details,
    )


def _gpu_warning(gpus: bool, toolkit: bool, setup: bool) -> dict[str, str]:
    """A warning for a GPU host without the NVIDIA container toolkit, naming the fix."""
    if not gpus or toolkit or setup:
        return {}
    return {
        "warning": "GPUs found but no NVIDIA container toolkit: docker jobs cannot use them; rerun with --gpu-setup"
    }


def status(host: Host, opts: TeardownOptions, parts: Parts, step: Step) -> HostResult:
    """What runs on ``host`` and what the forge says of each of its runners.

    An unreachable host is a failed result listing what the forge holds (never raises HostError).
    """
    remote = _remote(host, opts.name, parts)
    try:
        step("connect")
        with parts.connect(host) as machine:
            step("probe")
            probe, state = ops.survey(machine, parts, step)
    except HostError as exc:
        return HostResult(
            host=host.name, ok=False, action="unreachable", runners=tuple(sorted(remote)), message=str(exc)
        )
    mine = {n: r for n, r in state.runners.items() if belongs(n, host.address, opts.name)}
    details = {
        **describe(probe),
        **{n: _line(mine.get(n), remote.get(n), state.now) for n in {*mine, *remote}},
    }
    return HostResult(
        host=host.name,
        ok=True,
        action="running" if any(r.running for r in mine.values()) else "idle" if mine else "none",
        runners=tuple(sorted({*mine, *remote})),
        details=details,
    )


def _line(rec: RunnerState | None, rem: RemoteRunner | None, now: int | None) -> str:
    """One runner's status: host side, forge side, time since its last job."""
    host = "not on the host" if rec is None else f"{rec.mode} {'running' if rec.running else 'stopped'}"
    forge = (
        "not on the forge" if rem is None else ("busy" if rem.busy else "online" if rem.online else "offline")
    )
    since = rec.last_job_end or rec.started if rec else None
    idle = f", idle {_ago((now or int(time.time())) - since)}" if since and rem and not rem.busy else ""
    return f"{host}; {forge}{idle}"


def _ago(seconds: int) -> str:
    """``seconds`` as ``42s``, ``17m`` or ``3h``."""
    return (
        f"{seconds}s" if seconds < 120 else f"{seconds // 60}m" if seconds < 7200 else f"{seconds // 3600}h"
    )


def _remote(host: Host, name: str | None, parts: Parts) -> dict[str, RemoteRunner]:
    """The forge's runners with this host's names (``GET .../runners``, all pages)."""
    if parts.registrar is None:
        return {}
    listed = parts.registrar.api.runners(name or f"{PREFIX}{slug(host.address)}-")
    return {r.name: r for r in listed if belongs(r.name, host.address, name)}


def teardown(host: Host, opts: TeardownOptions, parts: Parts, step: Step) -> HostResult:
    """Stop and unregister ``host``'s runners, then delete what the forge still lists.

    The host unreachable: its runners are deleted through the API by id (the files stay on the host);
    a busy runner is a ForgeError naming it. Raises HostError when a script on the host fails (after
    deleting the forge's copies all the same: no zombie stays registered).
    """
    install.registrar(parts)
    remote = _remote(host, opts.name, parts)
    with contextlib.ExitStack() as stack:
        try:
            step("connect")
            machine = stack.enter_context(parts.connect(host))
        except HostError as exc:
            return _delete_remote(host, remote, parts, step, opts, f"host unreachable ({exc})")
        step("probe")
        _, state = ops.survey(machine, parts, step)
        mine = sorted(n for n in state.runners if belongs(n, host.address, opts.name))
        if opts.dry_run:
            return _would_remove(host, sorted({*mine, *remote}))
        try:
            _stop_on_host(machine, host, mine, state, parts, step)
        finally:
            _delete(remote, parts, step)
    return HostResult(host=host.name, ok=True, action="removed", runners=tuple(sorted({*mine, *remote})))


def _delete(remote: dict[str, RemoteRunner], parts: Parts, step: Step) -> None:
    """Delete each of ``remote`` through the API (``DELETE .../runners/{id}``; already gone is fine)."""
    reg = install.registrar(parts)
    if remote:
        step("delete through the API")
    for name in sorted(remote):
        reg.api.delete(remote[name].id)


def _stop_on_host(
    machine: Machine, host: Host, names: list[str], state: HostState, parts: Parts, step: Step
) -> None:
    """teardown.sh for each of ``names``, with a fresh remove token where the forge needs one."""
    reg = install.registrar(parts)
    if not names:
        return
    path = ops.script(state, parts, "teardown.sh")
    for name in names:
        step(f"remove {name}")
        params = {"forge": reg.forge, "name": name, **reg.teardown_secrets(state.runners[name].mode)}
        answer = ops.run_script(machine, path, params, step, what=f"removing {name}")
        logger.debug("host %s: %s removed, deregistered=%s", host.name, name, answer.get("deregistered"))


def _delete_remote(
    host: Host, remote: dict[str, RemoteRunner], parts: Parts, step: Step, opts: TeardownOptions, why: str
) -> HostResult:
    """Delete ``remote`` through the API (``DELETE .../runners/{id}``): the host cannot be reached."""
    if opts.dry_run:
        return _would_remove(host, sorted(remote), why)
    _delete(remote, parts, step)
    message = f"{why}: deleted {len(remote)} runner(s) through the API; their files stay on the host"
    return HostResult(
        host=host.name, ok=True, action="removed", runners=tuple(sorted(remote)), message=message
    )


def _would_remove(host: Host, names: list[str], why: str = "") -> HostResult:
    """The ``--dry-run`` result of teardown or gc."""
    return HostResult(
        host=host.name,
        ok=True,
        action="planned",
        runners=tuple(names),
        message=why,
        details=dict.fromkeys(names, "would be removed"),
    )


def gc_offline(opts: GcOptions, parts: Parts, step: Step) -> HostResult:
    """Delete the forge's offline, idle runners named ``opts.prefix*`` (``GET`` then ``DELETE .../runners``)."""
    reg = install.registrar(parts)
    step("list runners")
    stale = sorted(
        (r for r in reg.api.runners(opts.prefix) if not r.online and not r.busy), key=lambda r: r.name
    )
    names = [r.name for r in stale]
    if opts.dry_run:
        return HostResult(
            host=reg.api.url,
            ok=True,
            action="planned",
            runners=tuple(names),
            details=dict.fromkeys(names, "offline: would be removed"),
        )
    for runner in stale:
        step(f"delete {runner.name}")
        reg.api.delete(runner.id)
    return HostResult(
        host=reg.api.url,
        ok=True,
        action="removed" if names else "unchanged",
        runners=tuple(names),
        details=dict.fromkeys(names, "offline: removed"),
    )


def gc(host: Host, opts: GcOptions, parts: Parts, step: Step) -> HostResult:
    """Remove ``host``'s runners idle longer than their idle timeout (``opts.idle_timeout``, else the one
    recorded at launch): not busy on the forge, and the last job ended (or, before any job, the runner
    started) that long ago by the host's clock. A runner whose times are unknown is kept."""
    reg = install.registrar(parts)
    step("connect")
    with parts.connect(host) as machine:
        step("probe")
        _, state = ops.survey(machine, parts, step)
        remote = {r.name: r for r in reg.api.runners(opts.prefix) if r.name in state.runners}
        idle = [n for n, rec in sorted(state.runners.items()) if _idle(rec, remote.get(n), opts, state.now)]
        if opts.dry_run:
            return _would_remove(host, idle)
        _stop_on_host(machine, host, idle, state, parts, step)
    for name in idle:
        if name in remote:
            reg.api.delete(remote[name].id)
    return HostResult(
        host=host.name,
        ok=True,
        action="removed" if idle else "unchanged",
        runners=tuple(idle),
        details=dict.fromkeys(idle, "idle: removed"),
    )


def _idle(rec: RunnerState, rem: RemoteRunner | None, opts: GcOptions, now: int | None) -> bool:
    """True when ``rec`` has been idle at least its timeout and the forge does not call it busy."""
    timeout = opts.idle_timeout or rec.idle_timeout
    since = rec.last_job_end or rec.started
    if (
        not rec.name.startswith(opts.prefix)
        or timeout is None
        or since is None
        or (rem is not None and rem.busy)
    ):
        return False
    return (now or int(time.time())) - since >= timeout
