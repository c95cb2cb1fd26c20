"""Mobile benchmark: ``cml bench MODEL`` converts a model to TFLite variants, times them on targets and
reports size, latency and accuracy against the base branch.

The shared vocabulary lives here; each layer is its own module:

* ``convert``  — TFLiteConverter in a child process: one :class:`Converted` per variant
* ``harness``  — the script that runs ON a target (ai-edge-litert only; no cml import): warm-up, interleaved
  shuffled runs, repeats, per-run timings, init, first inference, peak RSS, outputs for accuracy
* ``stats``    — per-run timings → :class:`Latency` (median, p90, p99, min, std, cv)
* ``targets``  — where it runs: ``local`` (child process), ``ssh://`` (cml.runner.ssh), ``adb://``
  (``benchmark_model``), behind one :class:`Target` protocol
* ``accuracy`` — accuracy against labels and drop from the original, or agreement and max |Δ|
* ``results``  — :class:`Results` ⇄ JSON, baseline (stored data block or ``--baseline``), gate metrics
* ``report``   — the markdown table and latency plot
* ``run``      — the orchestration the CLI calls
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

Variant = Literal["fp32", "dynamic", "fp16", "int8"]
VARIANTS: tuple[Variant, ...] = ("fp32", "dynamic", "fp16", "int8")
#: The original model's outputs on accuracy's inputs, which conversion saves beside the variants while
#: TensorFlow is loaded anyway, so that accuracy needs no second TensorFlow start.
ORIGINAL_OUTPUTS = "original.npy"


@dataclass(frozen=True, kw_only=True)
class Converted:
    """One variant after conversion: its ``.tflite`` file, or why there is none."""

    variant: Variant
    path: Path | None  # None when conversion failed or was skipped
    size_bytes: int = 0
    error: str = ""  # one line: why this variant failed
    note: str = ""  # e.g. "skipped: no --representative or --eval data for int8 calibration"


@dataclass(frozen=True, kw_only=True)
class Method:
    """How to time: warm-up by count and time, at least ``runs`` runs and ``min_secs``, ``repeats`` rounds."""

    warmup: int = 10
    warmup_secs: float = 1.0
    runs: int = 50
    min_secs: float = 2.0
    repeats: int = 3
    threads: tuple[int, ...] = (1,)
    seed: int = 0  # the shuffle of variants per repeat


@dataclass(frozen=True, kw_only=True)
class Latency:
    """Per-run inference times of one variant on one target at one thread count, summarised (ms)."""

    median: float
    p90: float
    p99: float
    min: float
    std: float
    cv: float  # std / mean
    runs: int
    init_ms: float | None = None  # interpreter creation + allocate_tensors
    first_ms: float | None = None  # first inference
    peak_rss_kb: int | None = None  # of the process that ran it
    mean_only: bool = False  # adb benchmark_model: averages only, no percentiles


@dataclass(frozen=True, kw_only=True)
class TargetInfo:
    """What ran it, named in every table."""

    name: str  # "local", "ssh://pi@10.0.0.5", "adb://R58M..."
    cpu: str = ""
    cores: int = 0
    arch: str = ""
    runtime: str = ""  # "ai-edge-litert 2.3.0", "benchmark_model (user binary)"
    device: bool = True  # False for local: "host, not a device"


@dataclass(frozen=True, kw_only=True)
class Accuracy:
    """A variant's quality: against labels (``--eval``) or against the original model's outputs."""

    accuracy: float | None = None
    drop: float | None = None  # original's accuracy minus this one's
    agreement: float | None = None  # top-1 agreement with the original
    max_abs_diff: float | None = None


@dataclass(frozen=True, kw_only=True)
class VariantResult:
    """Everything known about one variant."""

    variant: Variant
    size_bytes: int = 0
    latency: dict[str, dict[int, Latency]] = field(default_factory=dict)  # target name -> threads -> latency
    accuracy: Accuracy | None = None
    error: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Results:
    """One ``cml bench`` run: kept as JSON and in the comment's data block for later comparison."""

    model: str
    commit: str = ""
    targets: tuple[TargetInfo, ...] = ()
    variants: tuple[VariantResult, ...] = ()
    method: Method = field(default_factory=Method)


class Target(Protocol):
    """Somewhere a harness can run: copies models there, runs, brings back JSON."""

    info: TargetInfo
    errors: dict[Variant, str]  # one line per variant the last time() could not run (absent from its result)

    def time(
        self, models: dict[Variant, Path], method: Method, inputs: Path | None
    ) -> dict[Variant, dict[int, Latency]]:
        """Time each model at each thread count; raises HostError (exit 4) when unreachable."""
        ...
