"""Which machines to provision: ``-H user@host[:port]`` specs and ``--inventory FILE.yaml``.

Nothing a user writes here may become an option of anything: a user, host or label starting with
``-`` is refused, and every field is checked against a narrow character set before a connection is
tried. Errors name the flag (``-H/--host``, exit 2) or the file and field (``hosts[2].port``, exit 2).

An inventory::

    defaults:                 # optional: any host field but ``host``
      user: ubuntu
      key: keys/ci_ed25519    # relative to the inventory's folder
    hosts:
      - ubuntu@arm1.example.com:2222          # a spec, as for -H (its user and port win)
      - host: gpu1.example.com
        labels: [a100, train]
        count: 2                              # runners on this host
        host_key: ssh-ed25519 AAAAC3Nza...    # pinned: known_hosts is not consulted
        jump: ops@bastion.example.com         # or {host:, user:, port:, key:, host_key:}
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cml.errors import InputError, UsageError
from cml.runner import Host

#: An inventory is a short hand-written file; 1 MB holds thousands of hosts.
INVENTORY_CAP = 1_000_000
MAX_HOSTS = 1000
MAX_COUNT = 64
#: GitHub accepts at most 100 labels in one ``PUT .../runners/{id}/labels`` body.
MAX_LABELS = 100
HOST_KEY_TYPES = frozenset(
    {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa"}
)

# POSIX portable user names (useradd's default check), at most 32 characters.
_USER = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,31}")
# Host names (RFC 1123 labels, underscores tolerated) and dotted IPv4 addresses.
_HOSTNAME = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?")
# The runner's config.sh splits ``--labels`` on commas, and a label with a space or other punctuation
# registers but never matches a job (actions/runner ADR 0397, issue #4124). GitLab tags split the same.
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

_HOST_FIELDS = ("host", "user", "port", "key", "labels", "count", "jump", "host_key")
_JUMP_FIELDS = ("host", "user", "port", "key", "host_key")


def _check_user(user: object) -> str:
    if not isinstance(user, str):
        raise ValueError(f"user {user!r}: expected a user name")
    if user.startswith("-"):
        raise ValueError(f"user {user!r} may not start with '-'")
    if not _USER.fullmatch(user):
        raise ValueError(f"user {user!r}: expected letters, digits, '_', '.', '-' (at most 32)")
    return user


def _check_address(address: str) -> str:
    if address.startswith("-"):
        raise ValueError(f"host {address!r} may not start with '-'")
    if ":" in address:
        try:
            ipaddress.IPv6Address(address)
        except ValueError:
            raise ValueError(f"host {address!r} is not an IPv6 address") from None
        return address
    if len(address) > 253 or not _HOSTNAME.fullmatch(address):
        raise ValueError(f"host {address!r}: expected a host name or an IP address")
    return address


def _check_port(port: object) -> int:
    if isinstance(port, str) and port.isascii() and port.isdigit():
        port = int(port)
    if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
        raise ValueError(f"port {port!r}: expected a number from 1 to 65535")
    return port


def split_spec(spec: str) -> tuple[str | None, str, int | None]:
    """``[user@]host[:port]`` (IPv6 as ``[addr]``) checked field by field; ValueError saying why."""
    user, at, rest = spec.rpartition("@")
    if not rest:
        raise ValueError("expected user@host[:port]")
    port: int | None = None
    if rest.startswith("["):
        address, bracket, tail = rest[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise ValueError("expected [IPv6]:port")
        if not address:
            raise ValueError("expected an IPv6 address in the brackets")
        if tail:
            port = _check_port(tail[1:])
        if ":" not in address:
            raise ValueError(f"[{address}]: brackets are for IPv6 addresses")
    elif rest.count(":") > 1:
        raise ValueError("an IPv6 address needs brackets: user@[ADDRESS]:PORT")
    else:
        address, colon, tail = rest.partition(":")
        if colon:
            port = _check_port(tail)
    return (_check_user(user) if at else None), _check_address(address), port


def parse_host(spec: str) -> Host:
    """The :class:`Host` of ``-H user@host[:port]`` (``user@[::1]:22`` for IPv6).

    Raises UsageError (exit 2) naming ``-H/--host`` when a field is missing or malformed.
    """
    try:
        user, address, port = split_spec(spec)
        if user is None:
            raise ValueError("expected user@host[:port] (the user is required)")
    except ValueError as exc:
        raise UsageError(f"-H/--host {spec!r}: {exc}") from None
    return Host(user=user, address=address, port=port or 22)


def check_labels(labels: Iterable[object]) -> tuple[str, ...]:
    """``labels`` checked and without repeats (compared ignoring case, as the forges compare them).

    Raises ValueError naming the label; callers name where it came from, in their error class.
    """
    out: list[str] = []
    seen: set[str] = set()
    for label in labels:
        if not isinstance(label, str) or not _LABEL.fullmatch(label):
            raise ValueError(
                f"label {label!r}: expected letters, digits, '.', '_', '-' (not first), at most 100 characters"
            )
        if label.lower() not in seen:
            seen.add(label.lower())
            out.append(label)
    if len(out) > MAX_LABELS:
        raise ValueError(f"{len(out)} labels, at most {MAX_LABELS}")
    return tuple(out)


def parse_labels(text: str, flag: str = "--labels") -> tuple[str, ...]:
    """Comma-separated labels from a flag; UsageError naming ``flag`` when one is malformed."""
    try:
        return check_labels(part.strip() for part in text.split(",") if part.strip())
    except ValueError as exc:
        raise UsageError(f"{flag} {text!r}: {exc}") from None


def check_host_key(text: str) -> str:
    """A pinned public key ``TYPE BASE64 [comment]`` as ``TYPE BASE64``; ValueError saying why."""
    parts = text.split()
    if len(parts) < 2 or parts[0] not in HOST_KEY_TYPES:
        raise ValueError(f"expected 'TYPE BASE64' with TYPE one of {', '.join(sorted(HOST_KEY_TYPES))}")
    try:
        blob = base64.b64decode(parts[1], validate=True)
        (size,) = struct.unpack(">I", blob[:4])
        inner = blob[4 : 4 + size].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError):
        raise ValueError("the key is not valid base64 of an SSH public key") from None
    if inner != parts[0]:
        raise ValueError(f"the key says {parts[0]} but its data holds a {inner or 'no'} key")
    return f"{parts[0]} {parts[1]}"


def load_inventory(path: Path) -> list[Host]:
    """The hosts of an inventory file (see the module docstring); at least one.

    Raises InputError (exit 2) naming the file and the field (``hosts[2].port``) on anything malformed.
    """
    from cml.files import read_text
    from cml.report.readers import parse

    name = str(path)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise InputError(f"{name}: an inventory is a YAML file (.yaml or .yml)")
    data = parse(read_text(path, INVENTORY_CAP, name), name)
    try:
        return _inventory(data, path.parent)
    except ValueError as exc:
        raise InputError(f"{name}: {exc}") from None


def _inventory(data: Any, folder: Path) -> list[Host]:
    if isinstance(data, list):
        data = {"hosts": data}
    if not isinstance(data, Mapping):
        raise ValueError("expected a mapping with 'hosts:' (and optional 'defaults:')")
    unknown = set(data) - {"hosts", "defaults"}
    if unknown:
        raise ValueError(f"unknown key {sorted(map(str, unknown))[0]!r} (expected hosts, defaults)")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping) or "host" in defaults:
        raise ValueError("defaults: expected a mapping of host fields other than 'host'")
    _fields(defaults, _HOST_FIELDS, "defaults")
    entries = data.get("hosts")
    if not isinstance(entries, list) or not entries:
        raise ValueError("hosts: expected a non-empty list")
    if len(entries) > MAX_HOSTS:
        raise ValueError(f"hosts: {len(entries)} hosts, at most {MAX_HOSTS}")
    hosts: list[Host] = []
    seen: dict[tuple[str, str, int], int] = {}
    for i, entry in enumerate(entries):
        where = f"hosts[{i}]"
        fields = {"host": entry} if isinstance(entry, str) else entry
        if not isinstance(fields, Mapping):
            raise ValueError(f"{where}: expected user@host[:port] or a mapping")
        host = _host({**defaults, **fields}, where, folder, _HOST_FIELDS)
        ident = (host.user, host.address.lower(), host.port)
        if ident in seen:
            raise ValueError(f"{where}: {host.name} is already hosts[{seen[ident]}]")
        seen[ident] = i
        hosts.append(host)
    return hosts


def _fields(fields: Mapping[Any, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in fields:
        if key not in allowed:
            raise ValueError(f"{where}: unknown field {key!r} (expected {', '.join(allowed)})")


def _host(fields: Mapping[Any, Any], where: str, folder: Path, allowed: tuple[str, ...]) -> Host:
    """One host entry, merged with the defaults; ValueError naming ``where`` and the field."""
    _fields(fields, allowed, where)
    spec = fields.get("host")
    if not isinstance(spec, str):
        raise ValueError(f"{where}.host: expected user@host[:port] or a host name")
    try:
        user, address, port = split_spec(spec)
    except ValueError as exc:
        raise ValueError(f"{where}.host: {exc}") from None
    user = user or _field(fields, "user", where, _check_user)
    port = port or _field(fields, "port", where, _check_port)
    if user is None:
        raise ValueError(f"{where}.user: missing (give user@host, 'user:', or defaults.user)")
    return Host(
        user=user,
        address=address,
        port=port or 22,
        key=_field(fields, "key", where, lambda k: _key_path(k, folder)),
        labels=_field(fields, "labels", where, _labels) or (),
        count=_field(fields, "count", where, _count) or 1,
        jump=_jump(fields["jump"], f"{where}.jump", folder) if fields.get("jump") is not None else None,
        host_key=_field(fields, "host_key", where, _pinned),
    )


def _field(fields: Mapping[Any, Any], name: str, where: str, check: Any) -> Any:
    value = fields.get(name)
    if value is None:
        return None
    try:
        return check(value)
    except ValueError as exc:
        raise ValueError(f"{where}.{name}: {exc}") from None


def _key_path(value: object, folder: Path) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected the path of a private key file")
    path = Path(value).expanduser()
    path = path if path.is_absolute() else folder / path
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    return str(path)


def _labels(value: object) -> tuple[str, ...]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        raise ValueError("expected a list of labels")
    return check_labels(i.strip() if isinstance(i, str) else i for i in items)


def _count(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_COUNT:
        raise ValueError(f"{value!r}: expected a number of runners from 1 to {MAX_COUNT}")
    return value


def _pinned(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("expected 'TYPE BASE64' (a line of the host's /etc/ssh/ssh_host_*_key.pub)")
    return check_host_key(value)


def _jump(value: object, where: str, folder: Path) -> Host:
    fields = {"host": value} if isinstance(value, str) else value
    if not isinstance(fields, Mapping):
        raise ValueError(f"{where}: expected user@host[:port] or a mapping")
    return _host(fields, where, folder, _JUMP_FIELDS)
