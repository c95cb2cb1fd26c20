"""The timing harness that runs ON a target: ``python3 harness.py`` with a JSON job on stdin, JSON on stdout.

Self-contained on purpose (standard library, numpy and ai-edge-litert only; never ``cml``): it is copied
to ssh targets and run there as a plain script.

The job::

    {"models": {"fp32": "/path/fp32.tflite", ...},
     "method": {"warmup": 10, "warmup_secs": 1.0, "runs": 50, "min_secs": 2.0, "repeats": 3,
                "threads": [1, 4]},
     "seed": 0,
     "inputs": "/path/x.npy" or null}

The method, for each thread count: ``repeats`` rounds; each round visits the variants in an order
shuffled by ``random.Random(seed)`` (recorded in ``order``). A variant's first visit creates its
interpreter (``Interpreter(model_path, num_threads)`` + ``allocate_tensors``: ``init_ms``), sets its
inputs once, times the first ``invoke()`` (``first_ms``) and warms up for at least ``warmup`` runs and
``warmup_secs``; later visits run one untimed ``invoke()`` first. Each round times at least
``ceil(runs / repeats)`` runs and ``min_secs / repeats`` seconds (so a variant gets at least ``runs``
runs and ``min_secs`` in all), cutting ``min_secs`` short only past :data:`MAX_RUNS` runs in all; every run is
``perf_counter_ns`` around a bare ``invoke()`` with the garbage collector off.

Inputs: random data of each input's shape and dtype from ``numpy.random.default_rng(seed)`` (floats
uniform in [0, 1), quantized inputs quantized from those floats with the input's scale and zero point),
or the first rows of the ``.npy`` in ``inputs`` (single-input models; floats are quantized the same way).

The result::

    {"harness": 1, "runtime": "ai-edge-litert 2.3.0", "cpu": "...", "cores": 8, "usable_cores": 8,
     "arch": "x86_64", "system": "Linux 6.1.0", "python": "3.11.7", "numpy": "2.1.0",
     "peak_rss_kb": 123456, "order": [{"threads": 1, "repeat": 0, "variants": ["int8", "fp32"]}, ...],
     "variants": {"fp32": {"error": "", "threads": {"1": {"times_ms": [...], "init_ms": 1.2,
                  "first_ms": 3.4, "peak_rss_kb": 120000, "rss_added_kb": 2048}}}, ...}}

``peak_rss_kb`` is ``getrusage(RUSAGE_SELF).ru_maxrss`` of this one process, which loads every variant:
per thread count it is the process peak once that thread count finished (shared by its variants, not a
variant's own footprint); ``rss_added_kb`` is how much the resident set grew while one variant's
interpreter was created and warmed up (Linux ``/proc/self/statm``; null elsewhere). A variant that
cannot be loaded or run (a corrupt file, an op the runtime lacks) has ``error`` (one line) and no
timings. Without ai-edge-litert the result is ``{"harness": 1, "fatal": "...", "kind": "no-runtime"}``
(exit 3); a malformed job gives ``"kind": "bad-job"`` (exit 2). Whatever the runtime prints goes to
stderr: stdout holds the JSON only.
"""

from __future__ import annotations

import gc
import json
import math
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from typing import IO, Any

FORMAT = 1
#: Enough runs for a stable p99; a 10 µs model would otherwise return 200,000 timings per variant.
MAX_RUNS = 10_000


class JobError(Exception):
    """The job on stdin is malformed."""


def _one_line(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _claim_stdout() -> IO[str]:
    """A private handle on stdout for the JSON; fd 1 then points at stderr, so C++ log lines of the
    runtime never mix with the result."""
    sys.stdout.flush()
    private = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return private


def _read_job(text: str) -> dict[str, Any]:
    """The job, checked. Raises JobError saying what is wrong."""
    try:
        job = json.loads(text)
    except ValueError as exc:
        raise JobError(f"the job is not JSON: {_one_line(exc)}") from None
    if not isinstance(job, dict):
        raise JobError("the job is not a JSON object")
    models, method = job.get("models"), job.get("method")
    if not isinstance(models, dict) or not all(isinstance(v, str) for v in models.values()):
        raise JobError("models: expected an object of variant name to .tflite path")
    if not isinstance(method, dict):
        raise JobError("method: expected an object")
    for name in ("warmup", "runs", "repeats"):
        if not isinstance(method.get(name), int) or method[name] < (1 if name == "repeats" else 0):
            raise JobError(f"method.{name}: expected a whole number")
    for name in ("warmup_secs", "min_secs"):
        if not isinstance(method.get(name), int | float) or method[name] < 0:
            raise JobError(f"method.{name}: expected seconds")
    threads = method.get("threads")
    if not isinstance(threads, list) or not threads or not all(isinstance(t, int) and t > 0 for t in threads):
        raise JobError("method.threads: expected a list of positive whole numbers")
    if not isinstance(job.get("seed", 0), int):
        raise JobError("seed: expected a whole number")
    if job.get("inputs") is not None and not isinstance(job["inputs"], str):
        raise JobError("inputs: expected the path of a .npy file or null")
    return job


def _quantize(x: Any, detail: dict[str, Any]) -> Any:
    """``x`` (floats) as the input of ``detail`` needs it: quantized with its scale and zero point when
    it is an integer input, else cast."""
    import numpy as np

    dtype = np.dtype(detail["dtype"])
    scale, zero = detail.get("quantization", (0.0, 0))
    if dtype.kind in "iu" and scale:
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return np.clip(np.round(x * min(info.max, 255)), info.min, info.max).astype(dtype)
    return np.asarray(x).astype(dtype)


def _input_data(details: list[dict[str, Any]], seed: int, npy: str | None) -> list[Any]:
    """One array per input: from ``npy`` (its first rows) or random (seeded). Raises ValueError."""
    import numpy as np

    if npy is None:
        arrays = []
        for number, detail in enumerate(details):
            rng = np.random.default_rng([seed, number])
            shape = tuple(int(d) for d in detail["shape"])
            if np.dtype(detail["dtype"]) == np.bool_:
                arrays.append(rng.integers(0, 2, size=shape).astype(np.bool_))
            else:
                arrays.append(_quantize(rng.random(shape, dtype=np.float32), detail))
        return arrays
    if len(details) != 1:
        raise ValueError(f"the model has {len(details)} inputs; an inputs .npy feeds single-input models")
    data = np.load(npy, allow_pickle=False)
    shape = tuple(int(d) for d in details[0]["shape"])
    if data.shape != shape:
        if data.ndim != len(shape) or data.shape[1:] != shape[1:] or data.shape[0] < shape[0]:
            raise ValueError(f"inputs {npy}: shape {data.shape} does not fit the model input {shape}")
        data = data[: shape[0]]
    if data.dtype.kind == "f":
        return [_quantize(data, details[0])]
    return [data.astype(details[0]["dtype"])]


def _rss_kb() -> int | None:
    """The current resident set (kB) from /proc/self/statm, or None where there is none."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def _peak_rss_kb() -> int:
    """``ru_maxrss`` of this process in kB (macOS reports bytes)."""
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak


def _warm(invoke: Callable[[], object], count: int, secs: float) -> None:
    """Run ``invoke`` at least ``count`` times and for at least ``secs`` seconds."""
    deadline = time.perf_counter() + secs
    done = 0
    while done < count or time.perf_counter() < deadline:
        invoke()
        done += 1


def _timed(invoke: Callable[[], object], runs: int, secs: float, cap: int, out: list[int]) -> None:
    """Append the ns of each of at least ``runs`` calls of ``invoke`` lasting ``secs`` in all to ``out``,
    stopping after ``cap`` calls even before ``secs`` (never before ``runs``)."""
    clock = time.perf_counter_ns
    add = out.append
    deadline = clock() + int(secs * 1e9)
    done = 0
    gc.disable()
    try:
        while True:
            start = clock()
            invoke()
            end = clock()
            add(end - start)
            done += 1
            if done >= runs and (end >= deadline or done >= cap):
                return
    finally:
        gc.enable()


class _Bench:
    """One variant's interpreter at one thread count: created, fed and warmed up on construction."""

    def __init__(self, interpreter: Any, path: str, threads: int, job: dict[str, Any]) -> None:
        method = job["method"]
        before = _rss_kb()
        start = time.perf_counter_ns()
        self.interpreter = interpreter(model_path=path, num_threads=threads)
        self.interpreter.allocate_tensors()
        self.init_ns = time.perf_counter_ns() - start
        details = self.interpreter.get_input_details()
        for detail, data in zip(
            details, _input_data(details, job.get("seed", 0), job.get("inputs")), strict=True
        ):
            self.interpreter.set_tensor(detail["index"], data)
        self.invoke = self.interpreter.invoke
        start = time.perf_counter_ns()
        self.invoke()
        self.first_ns = time.perf_counter_ns() - start
        _warm(self.invoke, method["warmup"], float(method["warmup_secs"]))
        after = _rss_kb()
        self.rss_added_kb = after - before if after is not None and before is not None else None
        self.times: list[int] = []

    def result(self, peak_rss_kb: int) -> dict[str, Any]:
        return {
            "times_ms": [t / 1e6 for t in self.times],
            "init_ms": self.init_ns / 1e6,
            "first_ms": self.first_ns / 1e6,
            "peak_rss_kb": peak_rss_kb,
            "rss_added_kb": self.rss_added_kb,
        }


def measure(job: dict[str, Any], interpreter: Any) -> dict[str, Any]:
    """Time every model of ``job`` as the module docstring says; ``interpreter`` is the Interpreter class."""
    method = job["method"]
    rng = random.Random(job.get("seed", 0))  # noqa: S311 (a reproducible shuffle, not a secret)
    repeats = method["repeats"]
    runs, secs = math.ceil(method["runs"] / repeats), float(method["min_secs"]) / repeats
    cap = math.ceil(MAX_RUNS / repeats)
    variants: dict[str, dict[str, Any]] = {v: {"error": "", "threads": {}} for v in job["models"]}
    order: list[dict[str, Any]] = []
    for threads in method["threads"]:
        benches: dict[str, _Bench] = {}
        for repeat in range(repeats):
            visit = [v for v in variants if not variants[v]["error"]]
            rng.shuffle(visit)
            order.append({"threads": threads, "repeat": repeat, "variants": visit})
            for variant in visit:
                try:
                    bench = benches.get(variant)
                    if bench is None:
                        bench = benches[variant] = _Bench(interpreter, job["models"][variant], threads, job)
                    else:
                        bench.invoke()
                    _timed(bench.invoke, runs, secs, cap, bench.times)
                except Exception as exc:  # a corrupt file or a missing kernel fails this variant only
                    variants[variant]["error"] = _one_line(exc)
                    variants[variant]["threads"] = {}
                    benches.pop(variant, None)
        peak = _peak_rss_kb()
        for variant, bench in benches.items():
            if not variants[variant]["error"]:
                variants[variant]["threads"][str(threads)] = bench.result(peak)
        del benches
        gc.collect()
    return {"order": order, "variants": variants}


def _cpu_model() -> str:
    """The CPU's name: /proc/cpuinfo (x86 ``model name``, ARM ``Hardware``/``Model``), the device tree's
    model, ``sysctl machdep.cpu.brand_string`` on macOS, else platform.processor()."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            fields = {
                k.strip(): v.strip() for k, _, v in (line.partition(":") for line in cpuinfo) if v.strip()
            }
        for key in ("model name", "Hardware", "Model", "cpu model", "cpu"):
            if fields.get(key):
                return fields[key]
    except OSError:
        pass
    try:
        with open("/sys/firmware/devicetree/base/model") as model:
            return model.read().strip("\0\n ")
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            done = subprocess.run(
                ["/usr/sbin/sysctl", "-n", "machdep.cpu.brand_string"],
                capture_output=True,
                text=True,
                check=False,
            )
            if done.stdout.strip():
                return done.stdout.strip()
        except OSError:
            pass
    return platform.processor() or platform.machine()


def system() -> dict[str, Any]:
    """What this machine and runtime are: CPU model, cores, arch, OS, Python, numpy, ai-edge-litert."""
    from importlib import metadata

    import numpy as np

    try:
        runtime = f"ai-edge-litert {metadata.version('ai-edge-litert')}"
    except metadata.PackageNotFoundError:
        runtime = "ai-edge-litert"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "runtime": runtime,
        "cpu": _cpu_model(),
        "cores": os.cpu_count() or 0,
        "usable_cores": usable or 0,
        "arch": platform.machine(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
    }


def main() -> int:
    """Read the job on stdin, time it, print the result JSON on stdout; exit 0, 2 (bad job), 3 (no
    runtime)."""
    out = _claim_stdout()
    result: dict[str, Any] = {"harness": FORMAT}
    code = 0
    try:
        job = _read_job(sys.stdin.read())
        from ai_edge_litert.interpreter import Interpreter

        result.update(system())
        result.update(measure(job, Interpreter))
        result["peak_rss_kb"] = _peak_rss_kb()
    except JobError as exc:
        result.update(fatal=str(exc), kind="bad-job")
        code = 2
    except ImportError as exc:
        result.update(fatal=f"ai-edge-litert cannot be imported: {_one_line(exc)}", kind="no-runtime")
        code = 3
    json.dump(result, out, separators=(",", ":"))
    out.write("\n")
    out.flush()
    return code


if __name__ == "__main__":
    sys.exit(main())
