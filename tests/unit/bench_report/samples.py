"""Results objects for the unit tests."""

from __future__ import annotations

from cml.bench import Accuracy, Method, Results, TargetInfo, VariantResult
from tests.unit.bench_report.standins import ACCURACY, MEDIANS, SIZES, latency

LOCAL = TargetInfo(name="local", cpu="Test CPU", cores=2, arch="x86_64", runtime="ai-edge-litert 2.3.0",
                   device=False)  # fmt: skip
ADB = TargetInfo(name="adb://R58M", cpu="Kryo", cores=8, arch="arm64-v8a", runtime="benchmark_model")


def results(
    *, scale: float = 1.0, targets: tuple[TargetInfo, ...] = (LOCAL,), threads: tuple[int, ...] = (1,),
    commit: str = "a" * 40, size_scale: float = 1.0,
) -> Results:  # fmt: skip
    """fp32, dynamic, fp16, int8, each timed on every target at every thread count, with accuracy."""
    variants = tuple(
        VariantResult(
            variant=v,
            size_bytes=int(SIZES[v] * size_scale),
            latency={
                t.name: {
                    n: latency(MEDIANS[v] * scale / n, mean_only=t.name.startswith("adb")) for n in threads
                }
                for t in targets
            },
            accuracy=Accuracy(accuracy=ACCURACY[v], drop=round(0.981 - ACCURACY[v], 6)),
        )
        for v in ("fp32", "dynamic", "fp16", "int8")
    )
    return Results(
        model="model/model.keras", commit=commit, targets=targets, variants=variants,
        method=Method(threads=threads),
    )  # fmt: skip
