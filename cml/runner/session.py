"""What every ``cml runner`` command assembles first: hosts, SSH access, the forge, the parts.

Kept out of the CLI module so the action, a Python user and the benchmark build the same things.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cml.ci import CIContext
from cml.errors import UsageError
from cml.runner import Host
from cml.runner.parts import Access, Parts, real_parts
from cml.runner.registrar import open_registrar
from cml.secrets import register_secret

#: A private key's text (the action passes its ssh-key input so); never on argv.
KEY_VAR = "CML_SSH_KEY"
#: known_hosts lines (the action's known-hosts input), used when --known-hosts is not given.
KNOWN_HOSTS_VAR = "CML_KNOWN_HOSTS"


def hosts(specs: Sequence[str], inventory: Path | None) -> list[Host]:
    """The hosts of ``-H`` specs and the inventory file, in that order.

    Raises UsageError when none is given, or one is given twice; parse errors come from
    ``cml.runner.hosts`` (UsageError naming -H, InputError naming the file and field).
    """
    parse: Any = importlib.import_module("cml.runner.hosts")
    found: list[Host] = [parse.parse_host(spec) for spec in specs]
    if inventory is not None:
        found += parse.load_inventory(inventory)
    if not found:
        raise UsageError("no host: give -H/--host user@host[:port] or --inventory FILE.yaml")
    names = [h.name for h in found]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise UsageError(f"host {twice[0]} is given twice")
    return found


def identity(flag: str | None, env: Mapping[str, str]) -> str | None:
    """``--identity FILE``, else the key text in ``CML_SSH_KEY`` (registered as a secret first)."""
    if flag:
        return flag
    key = env.get(KEY_VAR, "").strip()
    if not key:
        return None
    register_secret(key, env)
    for line in key.splitlines():  # each line of a PEM key, so no part of it shows either
        if len(line) >= 16 and "PRIVATE KEY" not in line:
            register_secret(line, env)
    return key + "\n"


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
    registrar = open_registrar(ctx, token, org=org, group=group) if token or not dry_run else None
    return real_parts(access, registrar, cache=cache_dir(env), runner_package=runner_package)
