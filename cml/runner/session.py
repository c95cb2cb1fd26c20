"""What every ``cml runner`` command assembles first: hosts, SSH access, the forge, the parts.

Kept out of the CLI module so the action, a Python user and the benchmark build the same things.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from cml.ci import CIContext
from cml.errors import UsageError
from cml.runner import Host
from cml.runner.parts import Access, Parts, real_parts
from cml.runner.registrar import open_registrar

#: known_hosts lines (the action's known-hosts input), used when --known-hosts is not given.
KNOWN_HOSTS_VAR = "CML_KNOWN_HOSTS"


def hosts(specs: Sequence[str], inventory: Path | None) -> list[Host]:
    """The hosts of ``-H`` specs and the inventory file, in that order.

    Raises UsageError when none is given, or one is given twice; parse errors come from
    ``cml.runner.hosts`` (UsageError naming -H, InputError naming the file and field).
    """
    from cml.runner.hosts import load_inventory, parse_host

    found = [parse_host(spec) for spec in specs]
    if inventory is not None:
        found += load_inventory(inventory)
    if not found:
        raise UsageError("no host: give -H/--host user@host[:port] or --inventory FILE.yaml")
    names = [h.name for h in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"host {twice[0]} is given twice")
    return found


def identity(flag: str | None, env: Mapping[str, str]) -> str | None:
    """``--identity FILE``, else the key text in ``CML_SSH_KEY`` (registered as a secret first)."""
    from cml.runner.ssh import identity_from

    return identity_from(flag, env)


@contextlib.contextmanager
def access(
    *, identity: str | None, known_hosts: Path | None, accept_new: bool, env: Mapping[str, str]
) -> Iterator[Access]:
    """The SSH access for this run; ``CML_KNOWN_HOSTS`` text becomes a temporary file while it lasts."""
    text = env.get(KNOWN_HOSTS_VAR, "")
    if known_hosts is not None or not text.strip():
        default = Path(env.get("HOME", str(Path.home()))) / ".ssh" / "known_hosts"
        yield Access(identity=identity, known_hosts=known_hosts or default, accept_new=accept_new)
        return
    with tempfile.TemporaryDirectory(prefix="cml-ssh-") as tmp:
        path = Path(tmp) / "known_hosts"
        path.write_text(text.strip() + "\n", encoding="utf-8")
        yield Access(identity=identity, known_hosts=path, accept_new=accept_new)


def cache_dir(env: Mapping[str, str]) -> Path:
    """Where runner packages are kept between runs: ``$XDG_CACHE_HOME/cml/runners``."""
    base = env.get("XDG_CACHE_HOME") or os.path.join(env.get("HOME", str(Path.home())), ".cache")
    return Path(base) / "cml" / "runners"


def parts(
    ctx: CIContext,
    token: str,
    access: Access,
    env: Mapping[str, str],
    *,
    org: str | None = None,
    group: str | None = None,
    runner_package: Path | None = None,
    dry_run: bool = False,
) -> Parts:
    """The real parts. A ``dry_run`` without a token consults no forge; anything else needs GitHub or
    GitLab (ConfigError from :func:`cml.runner.registrar.open_registrar` otherwise)."""
    registrar = open_registrar(ctx, token, env, org=org, group=group) if token or not dry_run else None
    return real_parts(access, registrar, cache=cache_dir(env), runner_package=runner_package)
