"""Carry out a launch plan on one connected host, and roll it back when it cannot finish.

Order: stage the scripts; remove stale copies of the runners to replace; fetch the package (once per
controller run) and put it on the host; for each runner mint its secret right before
``install-<forge>.sh`` reads it on stdin; apply label changes in place; remove runners beyond
``--count``. Every runner id the forge hands out and every runner started is recorded in :class:`Work`
first, so :func:`rollback` can undo them whatever interrupts the launch.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from cml.errors import ConfigError
from cml.log import logger
from cml.runner import Host, Machine, Probe
from cml.runner import hostops as ops
from cml.runner.parts import Parts, Step
from cml.runner.plan import OS, LaunchOptions, Plan
from cml.runner.registrar import Registrar
from cml.runner.state import HostState

ROLLBACK_TIMEOUT = 30.0
RUNNER_USER = "cml-runner"  # created by the install script when we log in as root


@dataclass(kw_only=True)
class Work:
    """What a launch created so far: runner ids from the forge, runners started on the host."""

    host: Host
    parts: Parts
    prefix: str
    created: list[int] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    teardown: str = ""  # teardown.sh's path on the host once staged


def registrar(parts: Parts) -> Registrar:
    """The forge's registrar; ConfigError when there is none (no token)."""
    if parts.registrar is None:
        raise ConfigError(
            "cml runner needs a forge token that may register runners (see `cml runner --help`)"
        )
    return parts.registrar


def apply(
    machine: Machine,
    opts: LaunchOptions,
    parts: Parts,
    step: Step,
    probe: Probe,
    state: HostState,
    plan: Plan,
) -> dict[str, str]:
    """Carry out ``plan``; return what happened to each runner. On any error or Ctrl-C, roll back what
    this call created (:func:`rollback`) and re-raise."""
    work = Work(host=machine.host, parts=parts, prefix=plan.prefix)
    try:
        return _carry_out(machine, opts, parts, step, probe, state, plan, work)
    except BaseException:
        rollback(work, machine)
        raise


def _carry_out(
    machine: Machine,
    opts: LaunchOptions,
    parts: Parts,
    step: Step,
    probe: Probe,
    state: HostState,
    plan: Plan,
    work: Work,
) -> dict[str, str]:
    """The steps of :func:`apply`, recording into ``work`` as they go."""
    reg = registrar(parts)
    done: dict[str, str] = dict.fromkeys(plan.unchanged, "unchanged")
    paths: dict[str, str] = {}
    if plan.install or plan.remove:
        step("stage scripts")
        paths = ops.stage(machine, parts, state, [f"install-{reg.forge}.sh", "teardown.sh"])
        work.teardown = paths["teardown.sh"]
    for name in plan.replace:
        step(f"remove stale {name}")
        _remove(machine, reg, name, state, plan, paths["teardown.sh"], step)
    if plan.install:
        params = _install_params(reg, opts, machine, parts, step, probe, state, plan)
        cache: dict[str, str] = {}
        for name in plan.install:
            done[name] = _install(machine, reg, name, params, cache, paths, step, work, plan)
    for name in plan.update:
        step(f"update {name}")
        done[name] = _update(machine, reg, name, opts, state, plan, step)
    for name in plan.remove:
        step(f"remove {name}")
        _remove(machine, reg, name, state, plan, paths["teardown.sh"], step)
        done[name] = "removed"
    step.check()  # Ctrl-C or the timeout during the last remote command still undoes this launch
    return done


def _install_params(
    reg: Registrar,
    opts: LaunchOptions,
    machine: Machine,
    parts: Parts,
    step: Step,
    probe: Probe,
    state: HostState,
    plan: Plan,
) -> dict[str, str]:
    """Fetch the package (once per run) and put it on the host; the parameters every install shares."""
    if parts.packages is None:
        raise ConfigError("cml runner launch: no runner package source (a forge token is needed)")
    step("fetch package")
    pkg, local = parts.packages.get(OS, probe.arch)
    step("copy package")
    remote = f"{state.staging}/{pkg.filename}"
    machine.put(local.read_bytes(), remote, mode=0o644)
    return {
        "forge": reg.forge,
        "mode": plan.mode,
        "labels": ",".join(plan.labels),
        "package": remote,
        "version": pkg.version,
        "url": reg.api.url,
        "runner_user": RUNNER_USER if probe.root else (probe.user or machine.host.user),
        "gpu": "1" if probe.gpus else "0",
        "gpu_setup": "1" if opts.gpu_setup else "0",
        "idle_timeout": str(opts.idle_timeout or ""),
    }


def _install(
    machine: Machine,
    reg: Registrar,
    name: str,
    params: dict[str, str],
    cache: dict[str, str],
    paths: dict[str, str],
    step: Step,
    work: Work,
    plan: Plan,
) -> str:
    """Mint ``name``'s secret and run the install script with it on stdin; return its status."""
    step(f"register {name}")
    minted = reg.mint(name, plan.labels, plan.mode, cache)
    if minted.runner_id is not None:
        work.created.append(minted.runner_id)
    work.started.append(name)
    step(f"start {name}")
    secret = {minted.key: minted.secret, "id": "" if minted.runner_id is None else str(minted.runner_id)}
    answer = ops.run_script(
        machine,
        paths[f"install-{reg.forge}.sh"],
        {**params, "name": name, **secret},
        step,
        what=f"installing {name}",
    )
    return "replaced" if name in plan.replace else answer.get("status", "started")


def _update(
    machine: Machine, reg: Registrar, name: str, opts: LaunchOptions, state: HostState, plan: Plan, step: Step
) -> str:
    """Set ``name``'s labels through the forge (``PUT .../runners/{id}/labels``) and in the host's state."""
    rec = state.runners[name]
    if sorted(rec.labels) != sorted(plan.labels) and name in plan.remote:
        reg.api.set_labels(plan.remote[name].id, plan.labels)
    if not rec.path:
        return "updated (forge only: status.sh named no state file)"
    values = {"labels": ",".join(plan.labels), "idle_timeout": str(opts.idle_timeout or "")}
    ops.update_state(machine, rec.path, values, step)
    return "updated"


def _remove(
    machine: Machine, reg: Registrar, name: str, state: HostState, plan: Plan, teardown: str, step: Step
) -> None:
    """Stop and unregister ``name`` on the host (fresh remove token), then delete it through the API."""
    rec = state.runners.get(name)
    if rec is not None:
        params = {"forge": reg.forge, "name": name, "mode": rec.mode, "unregister": "1"}
        ops.run_script(
            machine, teardown, {**params, **reg.teardown_secrets(rec.mode)}, step, what=f"removing {name}"
        )
    if name in plan.remote:
        reg.api.delete(plan.remote[name].id)


def rollback(work: Work, machine: Machine) -> None:
    """Undo ``work``: delete its runners through the API, stop them on the host (reconnecting once).

    Best effort, never raises: each failure is logged at debug level; the error that caused the
    rollback is the one the user sees.
    """
    if not (work.created or work.started):
        return
    reg = work.parts.registrar
    ids = set(work.created)
    if reg is not None:
        with contextlib.suppress(Exception):  # service runners: their id is only in the forge's list
            ids |= {r.id for r in reg.api.runners(work.prefix) if r.name in work.started}
        for runner_id in sorted(ids):
            try:
                reg.api.delete(runner_id)
            except Exception as exc:
                logger.debug("%s: rollback: deleting runner %s failed: %s", work.host.name, runner_id, exc)
    if work.teardown and work.started:
        _stop_started(work, machine)


def _stop_started(work: Work, machine: Machine) -> None:
    """teardown.sh for the runners ``work`` started, on ``machine`` or else on a fresh connection."""
    step = Step(host=work.host.name, timeout=ROLLBACK_TIMEOUT)
    try:
        _stop(machine, work, step)
    except Exception as first:
        logger.debug("%s: rollback on the host failed (%s); reconnecting once", work.host.name, first)
        try:
            with work.parts.connect(work.host) as again:
                _stop(again, work, step)
        except Exception as exc:
            logger.debug("%s: rollback on the host failed: %s", work.host.name, exc)


def _stop(machine: Machine, work: Work, step: Step) -> None:
    """teardown.sh for each runner ``work`` started (``unregister=0``: they were deleted through the API)."""
    forge = work.parts.registrar.forge if work.parts.registrar else ""
    for name in work.started:
        params = {"forge": forge, "name": name, "unregister": "0"}
        ops.run_script(machine, work.teardown, params, step, what=f"rollback of {name}")
