"""What ``launch`` would do on one host: the host's state and the forge's runners against the options.

A runner is *unchanged* when the host runs it in the same mode for the same forge and this scope's
runner list holds it; *updated* in place when only its labels or idle timeout differ; *installed* when
missing and *replaced* when a stale copy sits on the host or the forge (a JIT runner that took its job,
a half-done launch). This host's runners beyond ``--count`` are *removed*.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cml.runner import Host, HostResult, Mode, Probe, RemoteRunner
from cml.runner.parts import Parts
from cml.runner.registrar import Registrar
from cml.runner.state import PREFIX, HostState, RunnerState, belongs, runner_names, slug

OS = "linux"  # every host cml provisions runs Linux (probe.sh checks)


@dataclass(frozen=True, kw_only=True)
class LaunchOptions:
    """``cml runner launch`` for one host (``count`` None: the host's own, from the inventory)."""

    labels: tuple[str, ...] = ()
    gpu: bool = False
    gpu_setup: bool = False
    mode: Mode = "jit"
    name: str | None = None
    count: int | None = None
    idle_timeout: int | None = None  # seconds; recorded on the host for gc
    dry_run: bool = False


@dataclass(frozen=True, kw_only=True)
class Plan:
    """What launch does on one host, runner by runner."""

    names: tuple[str, ...]
    labels: tuple[str, ...]
    mode: Mode
    prefix: str  # what the forge's list is filtered by
    install: tuple[str, ...] = ()  # new, or replacing a stale copy (``replace`` lists those)
    replace: tuple[str, ...] = ()
    update: tuple[str, ...] = ()  # labels / idle timeout changed: applied in place
    unchanged: tuple[str, ...] = ()
    remove: tuple[str, ...] = ()  # this host's runners beyond ``--count``
    remote: dict[str, RemoteRunner] = field(default_factory=dict)

    def steps(self) -> dict[str, tuple[str, ...]]:
        """Each kind of step and the runners it concerns."""
        return {
            "installed": tuple(n for n in self.install if n not in self.replace),
            "replaced": self.replace,
            "updated": self.update,
            "unchanged": self.unchanged,
            "removed": self.remove,
        }

    def summary(self) -> str:
        """One line: how many runners each kind of step concerns."""
        return ", ".join(f"{verb} {len(names)}" for verb, names in self.steps().items() if names)


def make(host: Host, opts: LaunchOptions, parts: Parts, state: HostState, labels: tuple[str, ...]) -> Plan:
    """Compare ``state`` and the forge's runners (``GET .../runners``, all pages) with ``opts``."""
    reg = parts.registrar
    names = runner_names(host.address, opts.count or host.count, opts.name)
    mode = reg.mode(opts.mode) if reg else opts.mode
    prefix = opts.name or f"{PREFIX}{slug(host.address)}-"
    listed = reg.api.runners(prefix) if reg else []
    remote = {r.name: r for r in listed if belongs(r.name, host.address, opts.name)}
    install, replace, update, unchanged = [], [], [], []
    for name in names:
        rec = state.runners.get(name)
        if rec is None or not _current(rec, mode, reg, name in remote):
            install.append(name)
            if rec is not None or name in remote:
                replace.append(name)
        elif sorted(rec.labels) != sorted(labels) or rec.idle_timeout != opts.idle_timeout:
            update.append(name)
        else:
            unchanged.append(name)
    mine = {n for n in (*state.runners, *remote) if belongs(n, host.address, opts.name)}
    return Plan(
        names=names,
        labels=labels,
        mode=mode,
        prefix=prefix,
        install=tuple(install),
        replace=tuple(replace),
        update=tuple(update),
        unchanged=tuple(unchanged),
        remove=tuple(sorted(mine - set(names))),
        remote=remote,
    )


def _current(rec: RunnerState, mode: Mode, reg: Registrar | None, listed: bool) -> bool:
    """True when the host runs ``rec`` as wanted: alive, same mode and forge, and this scope's runner
    list holds it (without a registrar, a --dry-run with no token, only the host's side is compared)."""
    if not rec.running or rec.mode != mode:
        return False
    return reg is None or (listed and rec.forge == reg.forge)


def planned(host: Host, probe: Probe, plan: Plan, parts: Parts) -> HostResult:
    """The ``--dry-run`` result: the probe, the labels, the package and what would be registered."""
    details = describe(probe)
    reg = parts.registrar
    if reg is None:
        details["forge"] = "not consulted (no token): the package and the forge's runners are unknown"
    else:
        details["register"] = f"{reg.forge} {plan.mode} runner(s) at {reg.api.url}"
        if plan.install and parts.packages is not None:
            pkg = parts.packages.describe(OS, probe.arch)
            details["package"] = f"{pkg.filename} {pkg.version} sha256:{pkg.sha256}"
    for verb, names in plan.steps().items():
        details.update(dict.fromkeys(names, f"would be {verb}"))
    return HostResult(
        host=host.name,
        ok=True,
        action="planned",
        runners=plan.names,
        labels=plan.labels,
        message=plan.summary(),
        details=details,
    )


def describe(probe: Probe) -> dict[str, str]:
    """The probe's findings as short strings (for ``--dry-run``)."""
    gpus = ", ".join(f"{g.model} ({g.memory_mib} MiB)" for g in probe.gpus) or "none"
    return {
        "arch": probe.arch,
        "os": f"{probe.os} {probe.os_version}".strip(),
        "glibc": probe.glibc or "unknown",
        "init": probe.init,
        "disk_free_mib": str(probe.disk_free_mib),
        "docker": "yes" if probe.docker else "no",
        "gpus": gpus,
        "driver": probe.driver or "-",
        "cuda": probe.cuda or "-",
        "nvidia_toolkit": "yes" if probe.nvidia_toolkit else "no",
        "user": probe.user + (" (root)" if probe.root else ""),
    }
