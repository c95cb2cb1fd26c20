"""``cml runner launch|status|teardown|gc`` as one library call: :func:`run` takes a
:class:`RunnerRequest` and returns a :class:`RunnerResult` (one :class:`~cml.runner.HostResult` per host).

It resolves the CI context and token (:mod:`cml.session`), reads the hosts, opens SSH access and the
forge's runner registrar, and works on every host (:mod:`cml.runner.fleet`); a host that fails is in
the result, not raised, so every host finishes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from cml import session
from cml.errors import UsageError
from cml.runner import Host, HostResult
from cml.runner.fleet import Settings
from cml.runner.parts import Parts
from cml.runner.provision import GcOptions, LaunchOptions, TeardownOptions

Verb = Literal["launch", "status", "teardown", "gc"]
_KINDS: dict[Verb, type] = {
    "launch": LaunchOptions,
    "status": TeardownOptions,
    "teardown": TeardownOptions,
    "gc": GcOptions,
}


@dataclass(frozen=True, kw_only=True)
class RunnerRequest:
    """The verb, its options, the hosts (``user@host[:port]`` specs and/or an inventory file), the SSH
    access (``identity``: a key file, else ``CML_SSH_KEY``; ``known_hosts``: else ``CML_KNOWN_HOSTS``,
    else ``~/.ssh/known_hosts``), the forge scope and how the fleet runs.

    ``status`` takes :class:`TeardownOptions`. ``live``: a live terminal view when the run is local.
    """

    verb: Verb
    options: LaunchOptions | TeardownOptions | GcOptions
    hosts: tuple[str, ...] = ()
    inventory: Path | None = None
    identity: str | None = None
    known_hosts: Path | None = None
    accept_new: bool = False
    org: str | None = None
    group: str | None = None
    runner_package: Path | None = None
    settings: Settings = field(default_factory=Settings)
    live: bool = False
    access: session.Access = field(default_factory=session.Access)


@dataclass(frozen=True, kw_only=True)
class RunnerResult:
    """What the verb did on each host (``gc`` first reports the forge's own sweep, host ``forge``)."""

    results: tuple[HostResult, ...]

    @property
    def exit_code(self) -> int:
        """0 when every host succeeded, else the worst failed host's (:func:`cml.runner.fleet.exit_code`)."""
        from cml.runner import fleet

        return fleet.exit_code(self.results)


def run(request: RunnerRequest, env: Mapping[str, str]) -> RunnerResult:
    """Run ``request.verb`` on every host. Raises before any host is touched: UsageError/InputError (2)
    for bad hosts or options (or options of another verb's kind), ConfigError (3) for a missing token (a dry run needs none) or SSH key."""
    from dataclasses import replace

    from cml.runner import session as hosts_session

    opts = request.options
    if not isinstance(opts, _KINDS[request.verb]):
        raise UsageError(f"runner {request.verb}: options of the wrong kind ({type(opts).__name__})")
    dry = opts.dry_run
    ctx = session.context(env, request.access)
    token = session.token(ctx, env, request.access, required=not dry)
    wanted = request.hosts or request.inventory or request.verb != "gc"  # gc alone sweeps the forge only
    hosts = hosts_session.hosts(request.hosts, request.inventory) if wanted else []
    settings = replace(request.settings, live=request.live and ctx.provider == "local")
    key = hosts_session.identity(request.identity, env)
    with hosts_session.access(
        identity=key, known_hosts=request.known_hosts, accept_new=request.accept_new, env=env
    ) as ssh:
        parts = hosts_session.parts(
            ctx, token, ssh, env, org=request.org, group=request.group,
            runner_package=request.runner_package, dry_run=dry,
        )  # fmt: skip
        return RunnerResult(results=tuple(_verb(request.verb, hosts, opts, parts, settings)))


def _verb(
    verb: Verb,
    hosts: Sequence[Host],
    opts: LaunchOptions | TeardownOptions | GcOptions,
    parts: Parts,
    settings: Settings,
) -> list[HostResult]:
    """The fleet call for ``verb``; UsageError when ``opts`` is not the verb's kind of options."""
    from cml.runner import fleet

    if verb == "launch" and isinstance(opts, LaunchOptions):
        return fleet.launch(hosts, opts, parts, settings)
    if verb == "gc" and isinstance(opts, GcOptions):
        return fleet.gc(hosts, opts, parts, settings)
    if verb in ("status", "teardown") and isinstance(opts, TeardownOptions):
        return (fleet.status if verb == "status" else fleet.teardown)(hosts, opts, parts, settings)
    raise UsageError(f"runner {verb}: options of the wrong kind ({type(opts).__name__})")
