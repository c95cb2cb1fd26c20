"""Helpers the benchmarks share: fresh child processes, alternated runs, medians with spread, and the
peak memory of a whole process tree.

Import it as ``from _common import ...``: ``python benchmarks/x.py`` puts ``benchmarks/`` first on
``sys.path``. ``cml`` is imported as installed (``pip install -e .``) or from ``PYTHONPATH``; children
get the same ``PYTHONPATH`` so they run the very ``cml`` this process imported.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import cml
from cml import proc

#: The checkout whose ``cml`` is imported (the repository root for an editable install).
ROOT = Path(cml.__file__).resolve().parent.parent


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment, with ``PYTHONPATH`` pointing at the ``cml`` this process runs, plus ``extra``."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **(extra or {})}


def machine() -> str:
    """One line naming the cores and the load, for every benchmark's header."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{os.cpu_count()} cores, load average {load}, Python {sys.version.split()[0]}"


@dataclass
class Sample:
    """One side's measurements over its runs: seconds and peak tree memory (MiB), one per run."""

    seconds: list[float] = field(default_factory=list)
    rss_mib: list[float] = field(default_factory=list)
    pss_mib: list[float] = field(default_factory=list)


def spread(values: Sequence[float], unit: str = "s", digits: int = 2) -> str:
    """``median (min-max, n=N)`` of ``values``."""
    med = statistics.median(values)
    return f"{med:.{digits}f} {unit} (min {min(values):.{digits}f} - max {max(values):.{digits}f}, n={len(values)})"


def alternate(sides: Mapping[str, Callable[[], None]], runs: int) -> dict[str, list[float]]:
    """Run each side ``runs`` times, alternating (A B A B ..., the order flipped every round so
    neither always runs second); return each side's wall times in seconds."""
    names = list(sides)
    times: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(runs):
        for name in names if round_ % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            sides[name]()
            times[name].append(time.perf_counter() - start)
    return times


def tree(root: int) -> set[int]:
    """``root`` and every process below it."""
    return proc.descendants({root})


def _kib(path: str, key: str) -> int:
    """The ``key:`` line of a ``/proc`` status-like file, in KiB (0 when the process is gone)."""
    with suppress(OSError):
        for line in Path(path).read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def tree_memory(root: int) -> tuple[int, int]:
    """Summed ``VmRSS`` and summed ``Pss`` (KiB) of ``root``'s whole process tree right now.

    RSS counts pages the processes share (Chromium's) once per process; PSS splits them fairly.
    """
    pids = tree(root)
    rss = sum(_kib(f"/proc/{pid}/status", "VmRSS") for pid in pids)
    pss = sum(_kib(f"/proc/{pid}/smaps_rollup", "Pss") for pid in pids)
    return rss, pss


def run_sampled(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None, every: float = 0.05
) -> tuple[float, int, int]:
    """Run ``argv`` to the end, sampling its process tree's memory every ``every`` seconds.

    Returns (seconds, peak summed RSS KiB, peak summed PSS KiB). Raises SystemExit with stderr's
    tail when it fails.
    """
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=dict(env), cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = [0, 0]

    def sample() -> None:
        while proc.poll() is None:
            rss, pss = tree_memory(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], pss)
            time.sleep(every)

    sampler = threading.Thread(target=sample)
    sampler.start()
    _, err = proc.communicate()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"failed: {' '.join(argv)[:200]}\n{err.decode()[-3000:]}")
    return time.perf_counter() - start, peak[0], peak[1]


def run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None) -> str:
    """Run ``argv`` to the end; its stdout. Raises SystemExit with stderr's tail when it fails."""
    done = subprocess.run(list(argv), env=dict(env), cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"failed: {' '.join(argv)[:200]}\n{done.stderr[-3000:]}")
    return done.stdout


def use_test_fakes() -> None:
    """Make ``import tests...`` (the fakes: fake forges, sshd fixtures) load from the checkout whose
    ``cml`` this process runs, without putting that checkout on ``sys.path`` (which could shadow the
    installed ``cml`` with another copy). Call it before importing from ``tests``."""
    import importlib.util

    if "tests" in sys.modules:
        return
    init = ROOT / "tests" / "__init__.py"
    spec = importlib.util.spec_from_file_location(
        "tests", init, submodule_search_locations=[str(init.parent)]
    )
    if spec is None or spec.loader is None or not init.is_file():
        raise SystemExit(f"this benchmark needs the test fakes of a source checkout: no {init}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["tests"] = module
    spec.loader.exec_module(module)
