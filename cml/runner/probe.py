"""What a host is (one round trip of ``runners/probe.sh``) and the runner labels that follow from it.

The script prints ``key=value`` lines; :func:`parse` reads them leniently (a missing tool is a missing
line, odd ``nvidia-smi`` output is no GPU) and strictly where a wrong answer would mislead: an
architecture other than x64/arm64, or output cut short, is a HostError naming the host.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Sequence

from cml.errors import HostError, UsageError
from cml.runner import Arch, Gpu, Host, Machine, Probe
from cml.runner.hosts import check_labels

#: ``uname -m`` → the runner architecture (the forges publish x64 and arm64 packages for Linux).
ARCHES: dict[str, Arch] = {
    "x86_64": "x64",
    "amd64": "x64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv8l": "arm64",
}
_VERSION = re.compile(r"\d+(?:\.\d+)*")


def probe(machine: Machine, *, home: str = "", timeout: float = 120) -> Probe:
    """Run ``probe.sh`` on ``machine`` (one command, the script on its stdin) and parse what it says.

    ``home``: where the runner home will be (free disk is measured there); default the login home.
    Raises HostError naming the host when the script fails, its output is cut short, or the
    architecture is not one the forges ship runners for.
    """
    from cml.runner.scripts import text

    command = "sh -s" + (f" -- {shlex.quote(home)}" if home else "")
    done = machine.run(command, stdin=text("probe.sh").encode(), timeout=timeout)
    if done.code != 0:
        last = (done.err.strip() or done.out.strip()).splitlines()[-1:] or ["no output"]
        raise HostError(f"host {machine.host.name}: the probe failed (exit {done.code}): {last[0][:200]}")
    return parse(done.out, machine.host)


def _fields(output: str) -> tuple[dict[str, str], list[str]]:
    """The first value of each key, and every ``gpu`` line, in order."""
    first: dict[str, str] = {}
    gpus: list[str] = []
    for line in output.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "gpu":
            gpus.append(value)
        first.setdefault(key, value.strip())
    return first, gpus


def parse(output: str, host: Host) -> Probe:
    """The :class:`Probe` in ``probe.sh``'s output; HostError naming ``host`` as :func:`probe` says."""
    fields, gpu_lines = _fields(output)
    if fields.get("probe") != "1" or fields.get("end") != "1":
        raise HostError(f"host {host.name}: the probe's output is incomplete (was it cut short?)")
    raw_arch = fields.get("arch", "")
    arch = ARCHES.get(raw_arch)
    if arch is None:
        raise HostError(
            f"host {host.name}: architecture {raw_arch or 'unknown'!r} is not supported",
            hint="GitHub and GitLab publish Linux runners for x64 and arm64",
        )
    gpus = _gpus(gpu_lines) if fields.get("gpu_rc") == "0" else []
    cuda = fields.get("cuda", "")
    return Probe(
        arch=arch,
        os=_unquote(fields.get("os_id", "")) or "unknown",
        os_version=_unquote(fields.get("os_version", "")),
        glibc=_glibc(fields.get("libc", "")),
        init="systemd" if fields.get("init") == "systemd" else "other",
        disk_free_mib=_int(fields.get("disk_free_kib", "")) // 1024,
        docker=bool(fields.get("docker")),
        gpus=tuple(gpu for gpu, _ in gpus),
        driver=gpus[0][1] if gpus else "",
        cuda=cuda if gpus and _VERSION.fullmatch(cuda) else "",
        nvidia_toolkit=bool(fields.get("nvidia_toolkit")),
        user=fields.get("user", ""),
        root=fields.get("uid") == "0",
    )


def _unquote(value: str) -> str:
    """An os-release value without its quotes."""
    return value.strip().strip("\"'")


def _int(value: str) -> int:
    return int(value) if value.isascii() and value.isdigit() else 0


def _glibc(line: str) -> str:
    """``glibc 2.36`` (getconf) or ``ldd (Debian GLIBC 2.36-9) 2.36`` → ``2.36``; musl and others: ""."""
    words = line.split()
    if line.startswith("glibc ") or "GLIBC" in line or "GNU libc" in line:
        version = words[-1] if words else ""
        return version if _VERSION.fullmatch(version) else ""
    return ""


def _gpus(lines: Sequence[str]) -> list[tuple[Gpu, str]]:
    """``name, memory MiB, driver`` rows of nvidia-smi's CSV query; other lines are not GPUs."""
    found: list[tuple[Gpu, str]] = []
    for line in lines:
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3 or not parts[0] or not _VERSION.fullmatch(parts[2]):
            continue
        found.append((Gpu(model=parts[0], memory_mib=_int(parts[1])), parts[2]))
    return found


def gpu_slug(model: str) -> str:
    """A label-safe model name: ``NVIDIA A100-SXM4-40GB`` → ``a100-sxm4-40gb``."""
    name = model.strip().lower().removeprefix("nvidia ")
    return re.sub(r"[^a-z0-9]+", "-", name).strip("-")[:90].strip("-")


def labels(probe: Probe, extra: Sequence[str]) -> tuple[str, ...]:
    """The runner's labels: ``self-hosted``, ``linux``, the architecture, and on GPU hosts ``gpu``,
    ``gpus-N``, ``gpu-<model>`` (each model) and ``cuda-<major>``; then ``extra`` (the user's).

    Repeats are dropped (ignoring case). Raises UsageError when an extra label is malformed.
    """
    found = ["self-hosted", "linux", probe.arch]
    if probe.gpus:
        found += ["gpu", f"gpus-{len(probe.gpus)}"]
        found += [f"gpu-{slug}" for slug in map(gpu_slug, (g.model for g in probe.gpus)) if slug]
        if probe.cuda:
            found.append(f"cuda-{probe.cuda.split('.')[0]}")
    try:
        return check_labels([*found, *extra])
    except ValueError as exc:
        raise UsageError(f"labels: {exc}") from None


def require_gpu(probe: Probe, host: Host) -> None:
    """HostError (exit 4) when ``--gpu`` was asked for and ``host`` has no working NVIDIA GPU."""
    if not probe.gpus:
        raise HostError(
            f"host {host.name}: --gpu, but nvidia-smi lists no working NVIDIA GPU",
            hint="install the NVIDIA driver (nvidia-smi must list the GPUs), or drop --gpu for this host",
        )
