"""Where the models are timed: ``local``, ``ssh://user@host[:port]``, ``adb://SERIAL``.

Every target has :meth:`time` (models, method, inputs → latency per variant per thread count), ``info``
(what ran it: filled in by :meth:`time`) and ``errors`` (one line per variant that could not run, from
the last :meth:`time`; such variants are absent from its result).

* ``local``: :mod:`cml.bench.harness` in a child process of this Python (ai-edge-litert must import
  here). Its rows are the host's, not a device's (``info.device`` is False).
* ``ssh://``: :func:`cml.runner.ssh.connect` (the same host-key rules as ``cml runner``); the harness and
  the models are copied to a fresh folder under ``$TMPDIR`` (or /tmp) on the host, run with the host's
  ``python3`` (or the venv ``--setup`` made in ``~/.cache/cml-bench/venv``), and the folder removed.
* ``adb://``: the user's ``benchmark_model`` (``--benchmark-binary``) and the models are pushed to
  ``/data/local/tmp/cml-bench`` and run there, pinned with ``taskset`` to the upper half of the cores
  where the device has taskset. ``benchmark_model`` prints averages, so these rows are **mean only**:
  ``median``, ``p90`` and ``p99`` all hold the mean (``mean_only`` is True), ``min`` and ``std`` come from
  its ``count=... min=... std=...`` line when it prints one.

Nothing the user writes becomes an option of ssh, adb or a remote command: a spec starting with ``-`` is
refused, serials and hosts are checked against narrow character sets, paths given to adb are absolute,
and every remote command is built here from quoted paths of our own making.
"""

from __future__ import annotations

import json
import math
import random
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cml.bench import Latency, Method, Target, TargetInfo, Variant
from cml.errors import CmlError, ConfigError, HostError, InputError, UsageError
from cml.log import logger
from cml.runner import Host, Machine

HARNESS = Path(__file__).with_name("harness.py")
PIP_INSTALL = "pip install ai-edge-litert, or pip install 'cml-suite[bench]'"
#: The packages a device needs; ai-edge-litert brings its own small dependencies.
DEVICE_PACKAGES = ("ai-edge-litert", "numpy")
_SERIAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


@dataclass(frozen=True, kw_only=True)
class TargetOptions:
    """What the targets need beyond their spec (``cml bench``'s flags)."""

    identity: str | Path | None = None  # --identity KEY_FILE or the key text; None: CML_SSH_KEY
    known_hosts: Path | None = None  # --known-hosts; None: ~/.ssh/known_hosts
    accept_new: bool = False  # --accept-new
    setup: bool = False  # --setup: make a venv with ai-edge-litert on ssh targets
    benchmark_binary: Path | None = None  # --benchmark-binary for adb targets
    timeout: float | None = None  # seconds for one harness run; None: from the method


def parse_target(spec: str, options: TargetOptions | None = None, **given: Any) -> Target:
    """The target ``spec`` names: ``local``, ``ssh://user@host[:port]`` or ``adb://SERIAL``; ``given``
    sets :class:`TargetOptions` fields by keyword (``setup=True``, ``benchmark_binary=Path(...)``).

    Raises UsageError (exit 2) naming ``--target`` for anything else, a malformed host or serial, or a
    value starting with ``-``.
    """
    options = replace(options or TargetOptions(), **given)
    if spec.startswith("-"):
        raise UsageError(f"--target {spec!r} may not start with '-'")
    if spec == "local":
        return LocalTarget()
    if spec.startswith("ssh://"):
        return SshTarget(_ssh_host(spec), options)
    if spec.startswith("adb://"):
        serial = spec.removeprefix("adb://")
        if not _SERIAL.fullmatch(serial):
            raise UsageError(
                f"--target {spec!r}: expected adb://SERIAL (letters, digits, '.', '_', ':', '-')"
            )
        return AdbTarget(serial, options)
    raise UsageError(f"--target {spec!r}: expected local, ssh://user@host[:port] or adb://SERIAL")


def _ssh_host(spec: str) -> Host:
    """The Host of ``ssh://user@host[:port]``; UsageError naming --target."""
    from cml.runner.hosts import split_spec

    try:
        user, address, port = split_spec(spec.removeprefix("ssh://"))
    except ValueError as exc:
        raise UsageError(f"--target {spec!r}: {exc}") from None
    if user is None:
        raise UsageError(f"--target {spec!r}: expected ssh://user@host[:port] (the user is required)")
    return Host(user=user, address=address, port=port or 22)


# --- the harness's JSON -------------------------------------------------------------------------


def job(models: Mapping[Variant, str], method: Method, inputs: str | None) -> bytes:
    """The harness job (see :mod:`cml.bench.harness`) for ``models`` at their paths on the target."""
    spec = {
        "models": dict(models),
        "method": {
            "warmup": method.warmup,
            "warmup_secs": method.warmup_secs,
            "runs": method.runs,
            "min_secs": method.min_secs,
            "repeats": method.repeats,
            "threads": list(method.threads),
        },
        "seed": method.seed,
        "inputs": inputs,
    }
    return json.dumps(spec).encode()


def harness_result(stdout: str, where: str) -> dict[str, Any]:
    """The harness's JSON result (its last line that is a JSON object). Raises HostError naming
    ``where`` when there is none."""
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                break
            if isinstance(data, dict) and data.get("harness") == 1:
                return data
            break
    raise HostError(f"{where}: the harness returned no result")


def latencies(
    result: dict[str, Any], where: str
) -> tuple[dict[Variant, dict[int, Latency]], dict[Variant, str]]:
    """Per variant per thread count :class:`Latency`, and per-variant errors, of a harness result.
    Raises HostError naming ``where`` when the result is malformed."""
    from cml.bench.stats import summarise

    timed: dict[Variant, dict[int, Latency]] = {}
    errors: dict[Variant, str] = {}
    try:
        for variant, entry in result["variants"].items():
            if entry["error"]:
                errors[variant] = str(entry["error"])
                continue
            timed[variant] = {
                int(threads): summarise(
                    run["times_ms"],
                    init_ms=float(run["init_ms"]),
                    first_ms=float(run["first_ms"]),
                    peak_rss_kb=int(run["peak_rss_kb"]),
                )
                for threads, run in entry["threads"].items()
            }
    except (KeyError, TypeError, ValueError, AttributeError):
        raise HostError(f"{where}: the harness result is malformed") from None
    return timed, errors


def info_of(name: str, result: dict[str, Any], *, device: bool) -> TargetInfo:
    """The TargetInfo a harness result describes."""
    return TargetInfo(
        name=name,
        cpu=str(result.get("cpu", "")),
        cores=int(result.get("cores", 0) or 0),
        arch=str(result.get("arch", "")),
        runtime=str(result.get("runtime", "")),
        device=device,
    )


def _timeout(method: Method, variants: int) -> float:
    """A generous limit for one harness run: 10x the least it can take, plus two minutes."""
    least = variants * len(method.threads) * (method.warmup_secs + method.min_secs)
    return 120 + 10 * least


# --- local --------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class LocalTarget:
    """This machine: the harness in a child process of this Python. Not a device."""

    info: TargetInfo = field(default_factory=lambda: TargetInfo(name="local", device=False))
    errors: dict[Variant, str] = field(default_factory=dict)
    python: str = sys.executable

    def time(
        self, models: dict[Variant, Path], method: Method, inputs: Path | None
    ) -> dict[Variant, dict[int, Latency]]:
        """Run the harness here on ``models``. Raises ConfigError (exit 3) when ai-edge-litert cannot be
        imported, HostError (exit 4) when the harness fails."""
        from cml import proc

        if self.python == sys.executable:
            import importlib.util

            if importlib.util.find_spec("ai_edge_litert") is None:
                raise ConfigError(f"ai-edge-litert is not installed for {sys.executable}", hint=PIP_INSTALL)
        paths = {v: str(p.resolve()) for v, p in models.items()}
        payload = job(paths, method, str(inputs.resolve()) if inputs else None).decode()
        done = proc.run([self.python, "-I", str(HARNESS)], input=payload, check=False)
        result = harness_result(done.stdout, "local")
        if result.get("kind") == "no-runtime":
            raise ConfigError(f"local: {result['fatal']}", hint=PIP_INSTALL)
        if "fatal" in result or done.returncode != 0:
            last = str(result.get("fatal", "")) or (done.stderr.strip().splitlines() or [""])[-1]
            raise HostError(f"local: the harness failed (exit {done.returncode}): {last[:200]}")
        timed, self.errors = latencies(result, "local")
        self.info = info_of("local", result, device=False)
        return timed


# --- ssh ----------------------------------------------------------------------------------------

#: Run by the host's python3 (or the --setup venv's python) on stdin: what it is and what it has.
PROBE = r"""
import glob, importlib.util, json, platform, sys
print(json.dumps({
    "system": platform.system(), "machine": platform.machine(), "libc": list(platform.libc_ver()),
    "musl": bool(glob.glob("/lib/ld-musl-*")), "python": "%d.%d" % sys.version_info[:2],
    "mac": platform.mac_ver()[0], "executable": sys.executable,
    "runtime": all(importlib.util.find_spec(m) is not None for m in ("ai_edge_litert", "numpy")),
}))
"""
VENV = "$HOME/.cache/cml-bench/venv"
_PROBE_COMMAND = (
    f'if [ -x "{VENV}/bin/python" ]; then exec "{VENV}/bin/python" -I -; fi; '
    "command -v python3 >/dev/null 2>&1 || { echo no-python3; exit 0; }; exec python3 -I -"
)
_ADB_HINT = "time it on a device with adb://SERIAL and --benchmark-binary (TFLite's benchmark_model)"


@dataclass(frozen=True, kw_only=True)
class Platform:
    """What the host's probe said."""

    system: str
    machine: str
    glibc: tuple[int, int] | None  # None: not glibc (musl, macOS, unknown)
    musl: bool
    python: str  # "3.11"
    mac: str  # "14.5" on macOS
    runtime: bool  # ai-edge-litert and numpy import
    executable: str  # the python that answered (the --setup venv's when there is one)


def unsupported(plat: Platform) -> str:
    """Why ai-edge-litert has no wheels for ``plat`` (empty when it has: Linux glibc >= 2.27 on x86_64 or
    aarch64, macOS arm64)."""
    if plat.system == "Darwin":
        return "" if plat.machine == "arm64" else f"macOS on {plat.machine}"
    if plat.system != "Linux":
        return plat.system or "an unknown system"
    if plat.machine not in ("x86_64", "aarch64"):
        return f"Linux on {plat.machine}"
    if plat.musl or plat.glibc is None:
        return "Linux with musl libc" if plat.musl else "Linux without glibc"
    if plat.glibc < (2, 27):
        return f"glibc {plat.glibc[0]}.{plat.glibc[1]} (ai-edge-litert needs 2.27 or later)"
    return ""


def parse_probe(out: str, where: str) -> Platform:
    """The Platform the probe printed. Raises ConfigError when the host has no python3, HostError when
    the output is not the probe's."""
    if out.strip() == "no-python3":
        raise ConfigError(f"{where} has no python3", hint="install Python 3 there, or " + _ADB_HINT)
    try:
        data = json.loads(out.strip().splitlines()[-1])
        libc = data["libc"]
        version = tuple(int(p) for p in libc[1].split(".")[:2]) if libc[0] == "glibc" else None
        return Platform(
            system=str(data["system"]),
            machine=str(data["machine"]),
            glibc=(version[0], version[1]) if version and len(version) == 2 else None,
            musl=bool(data["musl"]),
            python=str(data["python"]),
            mac=str(data["mac"]),
            runtime=bool(data["runtime"]),
            executable=str(data["executable"]),
        )
    except (ValueError, KeyError, IndexError, TypeError):
        raise HostError(f"{where}: the probe printed something unexpected") from None


def wheel_platforms(plat: Platform) -> list[str]:
    """The wheel platform tags ``plat`` accepts, newest first (for ``pip download --platform``)."""
    if plat.system == "Darwin":
        major = int(plat.mac.split(".")[0] or 11)
        return [f"macosx_{m}_0_arm64" for m in range(max(major, 11), 10, -1)]
    assert plat.glibc is not None
    tags = [f"manylinux_2_{minor}_{plat.machine}" for minor in range(plat.glibc[1], 16, -1)]
    return [*tags, f"manylinux2014_{plat.machine}"]


class SshTarget:
    """A machine reached over SSH that runs the harness with ai-edge-litert."""

    def __init__(self, host: Host, options: TargetOptions) -> None:
        self.host, self.options = host, options
        self.errors: dict[Variant, str] = {}
        self.info = TargetInfo(name=self.name)

    @property
    def name(self) -> str:
        port = f":{self.host.port}" if self.host.port != 22 else ""
        return f"ssh://{self.host.user}@{self.host.address}{port}"

    def time(
        self, models: dict[Variant, Path], method: Method, inputs: Path | None
    ) -> dict[Variant, dict[int, Latency]]:
        """Copy the harness and ``models`` to the host, run it there, bring back its JSON, clean up.
        The identity is ``options.identity``, else the key text in ``CML_SSH_KEY`` (registered as a secret).

        Raises as :func:`cml.runner.ssh.connect` does; ConfigError (exit 3) when the host lacks
        ai-edge-litert (naming --setup) or cannot have it (naming adb://); HostError (exit 4) when a
        command fails there.
        """
        import os

        from cml.runner.ssh import connect, default_known_hosts, identity_from

        known = self.options.known_hosts or default_known_hosts()
        given = self.options.identity
        identity = str(given) if given is not None else identity_from(None, os.environ)
        with connect(
            self.host, identity=identity, known_hosts=known, accept_new=self.options.accept_new
        ) as machine:
            plat = self._ready(machine)
            folder = self._folder(machine)
            try:
                return self._run(machine, folder, models, method, inputs, plat)
            finally:
                machine.run(f"rm -rf {shlex.quote(folder)}", timeout=60)

    def _probe(self, machine: Machine) -> Platform:
        done = machine.run(_PROBE_COMMAND, stdin=PROBE.encode(), timeout=60)
        if done.code != 0:
            raise HostError(f"{self.name}: the probe failed (exit {done.code}): {_last(done.err, done.out)}")
        return parse_probe(done.out, self.name)

    def _ready(self, machine: Machine) -> Platform:
        """The host's platform once ai-edge-litert imports there (after ``--setup`` when asked)."""
        plat = self._probe(machine)
        if plat.runtime:
            return plat
        why = unsupported(plat)
        if why:
            raise ConfigError(f"{self.name}: ai-edge-litert has no wheels for {why}", hint=_ADB_HINT)
        if not self.options.setup:
            raise ConfigError(
                f"{self.name}: ai-edge-litert is not installed for the host's python3",
                hint=f"pass --setup to make a venv with it in {VENV}",
            )
        setup_venv(machine, plat, self.name)
        plat = self._probe(machine)
        if not plat.runtime:
            raise HostError(f"{self.name}: ai-edge-litert still does not import after --setup")
        return plat

    def _folder(self, machine: Machine) -> str:
        done = machine.run('mktemp -d "${TMPDIR:-/tmp}/cml-bench.XXXXXX"', timeout=60)
        folder = done.out.strip()
        if done.code != 0 or not folder.startswith("/"):
            raise HostError(f"{self.name}: cannot make a temp folder: {_last(done.err, done.out)}")
        return folder

    def _run(
        self,
        machine: Machine,
        folder: str,
        models: dict[Variant, Path],
        method: Method,
        inputs: Path | None,
        plat: Platform,
    ) -> dict[Variant, dict[int, Latency]]:
        machine.put(HARNESS.read_bytes(), f"{folder}/harness.py")
        remote: dict[Variant, str] = {}
        for variant, path in models.items():
            remote[variant] = f"{folder}/{variant}.tflite"
            machine.put(path.read_bytes(), remote[variant])
        npy = None
        if inputs is not None:
            npy = f"{folder}/inputs.npy"
            machine.put(inputs.read_bytes(), npy)
        python = shlex.quote(plat.executable) if plat.executable.startswith("/") else "python3"
        timeout = self.options.timeout or _timeout(method, len(models))
        command = f"cd {shlex.quote(folder)} && exec {python} -I harness.py"
        done = machine.run(command, stdin=job(remote, method, npy), timeout=timeout)
        result = harness_result(done.out, self.name)
        if result.get("kind") == "no-runtime":
            raise ConfigError(
                f"{self.name}: {result['fatal']}", hint=f"pass --setup to make a venv in {VENV}"
            )
        if "fatal" in result or done.code != 0:
            last = str(result.get("fatal", "")) or _last(done.err, "")
            raise HostError(f"{self.name}: the harness failed (exit {done.code}): {last[:200]}")
        timed, self.errors = latencies(result, self.name)
        self.info = info_of(self.name, result, device=True)
        return timed


def _last(*texts: str) -> str:
    for text in texts:
        lines = text.strip().splitlines()
        if lines:
            return lines[-1][:200]
    return "no output"


def setup_venv(machine: Machine, plat: Platform, where: str) -> None:
    """Make ``~/.cache/cml-bench/venv`` on the host and install ai-edge-litert and numpy there: from the
    host's package index, else from wheels for its platform fetched here (``pip download``) and copied.

    Raises ConfigError when the host cannot make a venv or no wheels exist for it, HostError when the
    install fails.
    """
    done = machine.run(f'mkdir -p "$HOME/.cache/cml-bench" && python3 -m venv "{VENV}"', timeout=600)
    if done.code != 0:
        raise ConfigError(
            f"{where}: python3 cannot make a venv: {_last(done.err, done.out)}",
            hint="install the venv module there (apt-get install python3-venv)",
        )
    pip = f'"{VENV}/bin/python" -m pip install --disable-pip-version-check --quiet'
    packages = " ".join(DEVICE_PACKAGES)
    done = machine.run(f"{pip} {packages}", timeout=1800)
    if done.code == 0:
        return
    logger.info("%s: pip found no index there (%s); fetching wheels here", where, _last(done.err, done.out))
    with tempfile.TemporaryDirectory(prefix="cml-wheels-") as tmp:
        wheels = download_wheels(plat, Path(tmp), where)
        done = machine.run('mktemp -d "${TMPDIR:-/tmp}/cml-wheels.XXXXXX"', timeout=60)
        folder = done.out.strip()
        if done.code != 0 or not folder.startswith("/"):
            raise HostError(f"{where}: cannot make a temp folder: {_last(done.err, done.out)}")
        quoted = shlex.quote(folder)
        try:
            for wheel in wheels:
                machine.put(wheel.read_bytes(), f"{folder}/{wheel.name}")
            done = machine.run(f"{pip} --no-index --find-links {quoted} {packages}", timeout=1800)
        finally:
            machine.run(f"rm -rf {quoted}", timeout=60)
    if done.code != 0:
        raise HostError(
            f"{where}: installing ai-edge-litert from copied wheels failed: {_last(done.err, done.out)}"
        )


def download_wheels(plat: Platform, dest: Path, where: str) -> list[Path]:
    """Wheels of ai-edge-litert and numpy (and their dependencies) for ``plat``, fetched into ``dest`` by
    this Python's pip. Raises ConfigError (pointing at adb://) when there are none."""
    from cml import proc

    tags = wheel_platforms(plat)
    argv = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet",
        "--only-binary=:all:", "--implementation", "cp", "--python-version", plat.python,
        *(f"--platform={tag}" for tag in tags), "--dest", str(dest), *DEVICE_PACKAGES,
    ]  # fmt: skip
    done = proc.run(argv, check=False)
    wheels = sorted(dest.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        raise ConfigError(
            f"{where}: no ai-edge-litert wheels for Python {plat.python} on {tags[0]} could be fetched here: "
            f"{_last(done.stderr, done.stdout)}",
            hint=_ADB_HINT,
        )
    return wheels


# --- adb ----------------------------------------------------------------------------------------

ADB_FOLDER = "/data/local/tmp/cml-bench"
_NUMBER = r"([0-9.]+(?:[eE][+-]?[0-9]+)?)"
_TIMINGS = re.compile(
    rf"Inference timings in us: Init: {_NUMBER}, First inference: {_NUMBER}, "
    rf"Warmup \(avg\): {_NUMBER}, Inference \(avg\): {_NUMBER}"
)
_COUNT = re.compile(rf"count={_NUMBER} first=\S+ curr=\S+ min={_NUMBER} max=\S+ avg={_NUMBER} std={_NUMBER}")
_PEAK = re.compile(
    rf"(?:Overall peak memory footprint \(MB\) via periodic monitoring: {_NUMBER}"
    rf"|Peak memory footprint \(MB\): init=\S+ overall={_NUMBER})"
)


@dataclass(frozen=True, kw_only=True)
class AdbRun:
    """What one ``benchmark_model`` run printed (µs), as parsed by :func:`parse_benchmark`."""

    init_us: float
    first_us: float
    mean_us: float
    count: int = 0  # 0: no count= line
    min_us: float | None = None
    std_us: float | None = None
    peak_mb: float | None = None


def parse_benchmark(output: str) -> AdbRun | None:
    """The timings of ``benchmark_model``'s output: its ``Inference timings in us: ...`` line, the last
    ``count=... min=... avg=... std=...`` line (the timed runs; warm-up comes first) and its peak memory
    line when printed. None when there is no timings line (the run failed)."""
    found = _TIMINGS.search(output)
    if found is None:
        return None
    init, first, _, mean = (float(g) for g in found.groups())
    counts = [m for m in _COUNT.finditer(output) if m.start() < found.start()]
    peak = _PEAK.search(output)
    run = AdbRun(init_us=init, first_us=first, mean_us=mean)
    if counts:
        count, low, _, std = (float(g) for g in counts[-1].groups())
        run = AdbRun(init_us=init, first_us=first, mean_us=mean, count=int(count), min_us=low, std_us=std)
    if peak is not None:
        mb = next(g for g in peak.groups() if g is not None)
        run = AdbRun(**{**run.__dict__, "peak_mb": float(mb)})
    return run


def mean_only(runs: list[AdbRun]) -> Latency:
    """One Latency of several ``benchmark_model`` runs of a variant: the mean weighted by run counts in
    median, p90 and p99 (``mean_only``), the least min, the pooled std; init and first inference of the
    first run; the highest peak memory."""
    weights = [r.count or 1 for r in runs]
    total = sum(weights)
    mean = sum(w * r.mean_us for w, r in zip(weights, runs, strict=True)) / total
    spread = sum(
        w * ((r.std_us or 0.0) ** 2 + (r.mean_us - mean) ** 2) for w, r in zip(weights, runs, strict=True)
    )
    std = math.sqrt(spread / total) / 1000
    peaks = [r.peak_mb for r in runs if r.peak_mb is not None]
    ms = mean / 1000
    return Latency(
        median=ms,
        p90=ms,
        p99=ms,
        min=min(r.min_us if r.min_us is not None else r.mean_us for r in runs) / 1000,
        std=std,
        cv=std / ms if ms > 0 else 0.0,
        runs=total,
        init_ms=runs[0].init_us / 1000,
        first_ms=runs[0].first_us / 1000,
        peak_rss_kb=int(max(peaks) * 1024) if peaks else None,
        mean_only=True,
    )


def pin_mask(cores: int, threads: int) -> str:
    """The taskset mask (hex) of the upper half of ``cores`` (the big cores of most phones: ``f0`` of 8),
    or "" when ``threads`` do not fit there."""
    upper = cores - cores // 2
    if cores < 2 or threads > upper:
        return ""
    return format(((1 << cores) - 1) ^ ((1 << (cores // 2)) - 1), "x")


_ADB_INFO = (
    'echo "model=$(getprop ro.product.model)"; echo "soc=$(getprop ro.soc.model)"; '
    'echo "abi=$(getprop ro.product.cpu.abi)"; echo "cores=$(cat /sys/devices/system/cpu/possible)"; '
    'echo "taskset=$(command -v taskset)"'
)


class AdbTarget:
    """An Android device (or any adb device) running the user's ``benchmark_model``: mean only."""

    def __init__(self, serial: str, options: TargetOptions) -> None:
        self.serial, self.options = serial, options
        self.name = f"adb://{serial}"
        self.errors: dict[Variant, str] = {}
        self.order: list[tuple[int, int, tuple[Variant, ...]]] = []  # (threads, repeat, variants)
        self.info = TargetInfo(name=self.name, runtime="benchmark_model (user binary)")

    def _adb(self, *args: str, check: bool = True) -> str:
        """Run ``adb -s SERIAL ARGS`` (all built here); its stdout. HostError naming the device on failure."""
        from cml import proc

        adb = shutil.which("adb")
        if adb is None:
            raise ConfigError("adb is not on PATH", hint="install Android platform-tools")
        try:
            done = proc.run([adb, "-s", self.serial, *args], check=check)
        except CmlError as exc:
            raise HostError(f"{self.name}: {exc.message}") from None
        return done.stdout + done.stderr

    def time(
        self, models: dict[Variant, Path], method: Method, inputs: Path | None
    ) -> dict[Variant, dict[int, Latency]]:
        """Push ``benchmark_model`` and ``models``, run each variant per thread count in shuffled rounds,
        parse the timings, remove the folder. Raises ConfigError (no adb, no --benchmark-binary),
        InputError (the binary is not a file), HostError (adb failed)."""
        binary = self.options.benchmark_binary
        if binary is None:
            raise ConfigError(
                f"{self.name} needs --benchmark-binary", hint="TFLite's benchmark_model for the device's ABI"
            )
        if not binary.is_file():
            raise InputError(f"--benchmark-binary {binary}: not a file")
        if inputs is not None:
            logger.info("%s: benchmark_model feeds random inputs; --inputs is not used there", self.name)
        cores, taskset = self._describe()
        self._adb("shell", f"mkdir -p {ADB_FOLDER}")
        try:
            self._adb("push", str(binary.resolve()), f"{ADB_FOLDER}/benchmark_model")
            self._adb("shell", f"chmod 755 {ADB_FOLDER}/benchmark_model")
            for variant, path in models.items():
                self._adb("push", str(path.resolve()), f"{ADB_FOLDER}/{variant}.tflite")
            return self._rounds(list(models), method, cores, taskset)
        finally:
            self._adb("shell", f"rm -rf {ADB_FOLDER}", check=False)

    def _describe(self) -> tuple[int, bool]:
        """Fill ``info`` from the device's properties; its core count and whether it has taskset."""
        fields = dict(line.partition("=")[::2] for line in self._adb("shell", _ADB_INFO).splitlines())
        possible = fields.get("cores", "").strip()
        cores = int(possible.rpartition("-")[2]) + 1 if re.fullmatch(r"\d+(-\d+)?", possible) else 0
        model = " ".join(p for p in (fields.get("model", "").strip(), fields.get("soc", "").strip()) if p)
        self.info = TargetInfo(
            name=self.name,
            cpu=model,
            cores=cores,
            arch=fields.get("abi", "").strip(),
            runtime="benchmark_model (user binary)",
        )
        return cores, bool(fields.get("taskset", "").strip())

    def _rounds(
        self, variants: list[Variant], method: Method, cores: int, taskset: bool
    ) -> dict[Variant, dict[int, Latency]]:
        rng = random.Random(method.seed)  # noqa: S311 (a reproducible shuffle, not a secret)
        runs: dict[tuple[Variant, int], list[AdbRun]] = {}
        self.errors = {}
        for threads in method.threads:
            mask = pin_mask(cores, threads) if taskset else ""
            for repeat in range(method.repeats):
                visit = [v for v in variants if v not in self.errors]
                rng.shuffle(visit)
                self.order.append((threads, repeat, tuple(visit)))
                for variant in visit:
                    output = self._adb("shell", self._command(variant, threads, method, mask), check=False)
                    run = parse_benchmark(output)
                    if run is None:
                        self.errors[variant] = f"benchmark_model failed: {_last(output)}"
                        continue
                    runs.setdefault((variant, threads), []).append(run)
        timed: dict[Variant, dict[int, Latency]] = {}
        for (variant, threads), found in runs.items():
            if variant not in self.errors:
                timed.setdefault(variant, {})[threads] = mean_only(found)
        return timed

    @staticmethod
    def _command(variant: Variant, threads: int, method: Method, mask: str) -> str:
        """The device command for one run (every part is ours: variant names, numbers, our folder)."""
        runs = math.ceil(method.runs / method.repeats)
        pin = f"taskset {mask} " if mask else ""
        return (
            f"{pin}{ADB_FOLDER}/benchmark_model --graph={ADB_FOLDER}/{variant}.tflite --num_threads={threads} "
            f"--num_runs={runs} --min_secs={method.min_secs / method.repeats:g} "
            f"--warmup_runs={method.warmup} --warmup_min_secs={method.warmup_secs:g}"
        )
