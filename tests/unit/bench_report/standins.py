"""In-test stand-ins for the layers ``cml.bench.run`` drives (conversion, accuracy, targets), shaped
like the contract's signatures. They write small fake ``.tflite`` files and answer fixed timings, so the
results, report, gate and CLI are tested without TensorFlow or ai-edge-litert."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cml.bench import ORIGINAL_OUTPUTS, Accuracy, Converted, Latency, Method, TargetInfo, Variant
from cml.bench.run import Parts
from cml.errors import HostError, UsageError

SIZES: dict[Variant, int] = {"fp32": 13_900_000, "dynamic": 3_700_000, "fp16": 7_000_000, "int8": 3_900_000}
MEDIANS: dict[Variant, float] = {"fp32": 8.3, "dynamic": 13.3, "fp16": 8.4, "int8": 4.9}
ACCURACY: dict[Variant, float] = {"fp32": 0.981, "dynamic": 0.98, "fp16": 0.981, "int8": 0.975}


def latency(median: float, *, mean_only: bool = False, cv: float = 0.03) -> Latency:
    """A plausible summary around ``median``."""
    return Latency(
        median=median, p90=round(median * 1.1, 4), p99=round(median * 1.3, 4), min=round(median * 0.9, 4),
        std=round(median * cv, 4), cv=cv, runs=150, init_ms=12.0, first_ms=round(median * 2, 4),
        peak_rss_kb=None if mean_only else 51200, mean_only=mean_only,
    )  # fmt: skip


@dataclass
class Calls:
    """What the stand-ins were asked, in order."""

    log: list[tuple[str, Any]] = field(default_factory=list)


@dataclass
class FakeTarget:
    """A Target whose ``time`` answers ``medians`` (scaled by ``scale``) for every thread count."""

    info: TargetInfo
    calls: Calls
    scale: float = 1.0
    mean_only: bool = False
    fail: bool = False

    def time(
        self, models: dict[Variant, Path], method: Method, inputs: Path | None
    ) -> dict[Variant, dict[int, Latency]]:
        self.calls.log.append(("time", (self.info.name, sorted(models), method.threads, inputs)))
        if self.fail:
            raise HostError(f"{self.info.name}: connection refused")
        for path in models.values():
            assert path.is_file(), path
        return {
            v: {n: latency(MEDIANS[v] * self.scale / n, mean_only=self.mean_only) for n in method.threads}
            for v in models
        }


def make_parts(
    calls: Calls | None = None,
    *,
    scale: float = 1.0,
    sizes: Mapping[Variant, int] | None = None,
    failing: Mapping[Variant, str] | None = None,
    unreachable: Sequence[str] = (),
) -> tuple[Parts, Calls]:
    """Stand-in Parts: ``failing`` variants fail to convert with that error; int8 without data is skipped."""
    calls = calls or Calls()
    sizes = {**SIZES, **(sizes or {})}

    def convert(
        model: Path, variants: Sequence[Variant], out_dir: Path, *,
        representative: Path | None, eval_data: Path | None, log: Path,
    ) -> list[Converted]:  # fmt: skip
        calls.log.append(("convert", (model, tuple(variants), representative, eval_data)))
        out_dir.mkdir(parents=True, exist_ok=True)
        log.write_text("TF noise\n", encoding="utf-8")
        if (representative or eval_data) and model.suffix != ".tflite":  # as the real one: outputs saved
            (out_dir / ORIGINAL_OUTPUTS).write_bytes(b"npy")
        out = []
        for v in variants:
            if failing and v in failing:
                out.append(Converted(variant=v, path=None, error=failing[v]))
            elif v == "int8" and representative is None and eval_data is None:
                out.append(
                    Converted(variant=v, path=None, note="skipped: no --representative or --eval data")
                )
            else:
                path = out_dir / f"{v}.tflite"
                path.write_bytes(b"TFL3" + bytes(16))
                out.append(Converted(variant=v, path=path, size_bytes=sizes[v]))
        return out

    def evaluate(
        models: dict[Variant, Path], original: Path | None, *,
        eval_data: Path | None, representative: Path | None, log: Path | None = None,
    ) -> dict[Variant, Accuracy]:  # fmt: skip
        calls.log.append(("evaluate", (sorted(models), original, eval_data, representative)))
        assert log is not None  # in the output folder, never a fixed name in a shared one
        assert log.name == "accuracy.log"
        if eval_data is not None:
            return {v: Accuracy(accuracy=ACCURACY[v], drop=round(0.981 - ACCURACY[v], 6)) for v in models}
        return {v: Accuracy(agreement=0.99, max_abs_diff=0.0123) for v in models}

    def parse_target(spec: str, **options: Any) -> FakeTarget:
        calls.log.append(("parse_target", (spec, options)))
        if spec == "local":
            info = TargetInfo(name="local", cpu="Test CPU", cores=2, arch="x86_64",
                              runtime="ai-edge-litert 2.3.0", device=False)  # fmt: skip
            return FakeTarget(info=info, calls=calls, scale=scale)
        if spec.startswith("adb://"):
            info = TargetInfo(name=spec, cpu="Kryo", cores=8, arch="arm64-v8a", runtime="benchmark_model")
            return FakeTarget(info=info, calls=calls, scale=scale * 3, mean_only=True)
        if spec.startswith("ssh://"):
            info = TargetInfo(
                name=spec, cpu="Cortex-A72", cores=4, arch="aarch64", runtime="ai-edge-litert 2.3.0"
            )
            return FakeTarget(info=info, calls=calls, scale=scale * 5, fail=spec in unreachable)
        raise UsageError(f"--target {spec!r}: expected local, ssh://user@host[:port] or adb://SERIAL")

    return Parts(convert=convert, evaluate=evaluate, parse_target=parse_target), calls
