"""Carry out a launch plan on one connected host, and roll it back when it cannot finish.

Order: with ``--gpu-setup`` on a GPU host, ``gpu-setup.sh`` (the NVIDIA container toolkit for
docker, checked with a GPU container) when something is installed or the toolkit is missing; remove
stale copies of the runners to replace; describe the package (once per controller run) and put it on
the host unless the host's staging folder already holds that sha256; for each runner mint its secret
right before ``install-<forge>.sh`` reads it on stdin; apply label and idle-timeout changes in place
(the install script records them, the forge's API sets the labels); remove runners beyond
``--count``. Every runner id the forge hands out and every runner started is recorded in :class:`Work`
first, so :func:`rollback` can undo them whatever interrupts the launch.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from cml.errors import ConfigError, HostError
from cml.log import logger
from cml.runner import Host, Machine, Package, Probe
from cml.runner import hostops as ops
from cml.runner.parts import Parts, Step
from cml.runner.plan import OS, LaunchOptions, Plan
from cml.runner.registrar import Registrar
from cml.runner.state import HostState

ROLLBACK_TIMEOUT = 30.0


@dataclass(kw_only=True)
class Work:
    """What a launch created so far: runner ids from the forge, runners started on the host."""

    host: Host
    parts: Parts
    prefix: str
    created: list[int] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    teardown: str = ""  # teardown.sh's path on the host


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
    installer = ops.script(state, parts, f"install-{reg.forge}.sh")
    work.teardown = ops.script(state, parts, "teardown.sh")
    if opts.gpu_setup and probe.gpus and (plan.install or not probe.nvidia_toolkit):
        step("gpu setup")
        answer = ops.run_script(
            machine, ops.script(state, parts, "gpu-setup.sh"), {}, step, what="--gpu-setup"
        )
        done["gpu-setup"] = f"docker sees {answer.get('gpus', '?')} GPU(s) (toolkit {answer.get('toolkit')})"
    for name in plan.replace:
        step(f"remove stale {name}")
        _remove(machine, reg, name, state, plan, work.teardown, step)
    common = {
        "forge": reg.forge,
        "mode": plan.mode,
        "labels": ",".join(plan.labels),
        "url": reg.api.url,
        "init": probe.init,
        "idle_timeout": str(opts.idle_timeout or ""),
    }
    if plan.install:
        pkg = _package(machine, parts, step, probe, state)
        params = {**common, **reg.install_params(probe), "package": ops.package_path(state, pkg.sha256)}
        cache: dict[str, str] = {}
        for name in plan.install:
            answer = _install(machine, reg, name, params, cache, installer, step, work, plan)
            if answer.get("package_sha256") != pkg.sha256:
                raise HostError(
                    f"host {machine.host.name}: runner {name} runs a package with sha256 "
                    f"{answer.get('package_sha256') or 'unknown'}, not the verified {pkg.sha256}"
                )
            done[name] = "replaced" if name in plan.replace else answer.get("status", "started")
    for name in plan.update:
        step(f"update {name}")
        rec = state.runners[name]
        params = {**common, **reg.install_params(probe, rec.extra), "name": name, "id": str(rec.id or "")}
        answer = ops.run_script(machine, installer, params, step, what=f"updating {name}")
        if name in plan.remote and sorted(rec.labels) != sorted(plan.labels):
            reg.api.set_labels(plan.remote[name].id, plan.labels)
        done[name] = answer.get("status", "updated")
    for name in plan.remove:
        step(f"remove {name}")
        _remove(machine, reg, name, state, plan, work.teardown, step)
        done[name] = "removed"
    step.check()  # Ctrl-C or the timeout during the last remote command still undoes this launch
    return done


def _package(machine: Machine, parts: Parts, step: Step, probe: Probe, state: HostState) -> Package:
    """The runner package for the host's arch, put in its staging folder unless that sha256 is there
    (fetched on the controller at most once per run, without any token, sha256 verified)."""
    if parts.packages is None:
        raise ConfigError("cml runner launch: no runner package source (a forge token is needed)")
    step("look up package")
    pkg = parts.packages.describe(OS, probe.arch)
    if pkg.sha256 in state.packages:
        return pkg
    step("fetch package")
    local = parts.packages.file(pkg)
    step("copy package")
    machine.put(local.read_bytes(), ops.package_path(state, pkg.sha256), mode=0o600)
    return pkg


def _install(
    machine: Machine,
    reg: Registrar,
    name: str,
    params: dict[str, str],
    cache: dict[str, str],
    installer: str,
    step: Step,
    work: Work,
    plan: Plan,
) -> dict[str, str]:
    """Mint ``name``'s secret and run the install script with it on stdin; return its answer."""
    step(f"register {name}")
    minted = reg.mint(name, plan.labels, plan.mode, cache)
    if minted.runner_id is not None:
        work.created.append(minted.runner_id)
    work.started.append(name)
    step(f"start {name}")
    secret = {minted.key: minted.secret, "id": "" if minted.runner_id is None else str(minted.runner_id)}
    return ops.run_script(
        machine, installer, {**params, "name": name, **secret}, step, what=f"installing {name}"
    )


def _remove(
    machine: Machine, reg: Registrar, name: str, state: HostState, plan: Plan, teardown: str, step: Step
) -> None:
    """Stop and unregister ``name`` on the host (fresh remove token), then delete it through the API."""
    rec = state.runners.get(name)
    if rec is not None:
        params = {"forge": reg.forge, "name": name, **reg.teardown_secrets(rec.mode)}
        ops.run_script(machine, teardown, params, step, what=f"removing {name}")
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
    """teardown.sh for each runner ``work`` started (no remove token: they were deleted through the API)."""
    forge = work.parts.registrar.forge if work.parts.registrar else ""
    for name in work.started:
        params = {"forge": forge, "name": name}
        ops.run_script(machine, work.teardown, params, step, what=f"rollback of {name}")
