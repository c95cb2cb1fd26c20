"""The harness and LocalTarget with real ai-edge-litert on tiny models converted by real TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cml.bench import Method
from cml.bench import harness as harness_module
from cml.bench.targets import LocalTarget, job, parse_target
from cml.errors import ConfigError

pytestmark = pytest.mark.slow
QUICK = Method(warmup=2, warmup_secs=0.0, runs=12, min_secs=0.0, repeats=3, threads=(1, 2), seed=5)


def _harness(payload: bytes) -> tuple[int, dict[str, object], str]:
    done = subprocess.run(
        [sys.executable, "-I", harness_module.__file__], input=payload, capture_output=True, check=False
    )
    return done.returncode, json.loads(done.stdout), done.stderr.decode()


def test_the_harness_times_real_models_in_shuffled_rounds(tiny_models: dict[str, Path]) -> None:
    models = {v: str(tiny_models[v]) for v in ("fp32", "dynamic", "int8")}
    code, result, _ = _harness(job(models, QUICK, str(tiny_models["inputs"])))
    assert code == 0
    assert str(result["runtime"]).startswith("ai-edge-litert ")
    assert result["arch"]
    assert result["cpu"]
    assert int(result["cores"]) >= 1
    order = result["order"]
    assert isinstance(order, list)
    assert [(o["threads"], o["repeat"]) for o in order] == [(t, r) for t in (1, 2) for r in range(3)]
    assert all(sorted(o["variants"]) == sorted(models) for o in order)
    variants = result["variants"]
    assert isinstance(variants, dict)
    for variant in models:
        assert variants[variant]["error"] == ""
        for threads in ("1", "2"):
            run = variants[variant]["threads"][threads]
            assert len(run["times_ms"]) == 12  # ceil(12 / 3) per round; min_secs 0
            assert min(run["times_ms"]) > 0
            assert run["init_ms"] > 0
            assert run["first_ms"] > 0
            assert run["peak_rss_kb"] > 10_000  # the process holds Python, numpy and the runtime
    again = _harness(job(models, QUICK, None))[1]
    assert again["order"] == order  # the same seed, the same shuffle


def test_stdout_holds_only_the_json_even_when_the_runtime_logs(tiny_models: dict[str, Path]) -> None:
    done = subprocess.run(
        [sys.executable, "-I", harness_module.__file__],
        input=job({"fp32": str(tiny_models["fp32"])}, QUICK, None),
        capture_output=True,
        check=False,
    )
    assert done.stdout.count(b"\n") == 1
    json.loads(done.stdout)


def test_local_target_end_to_end_with_a_corrupt_model(tiny_models: dict[str, Path], tmp_path: Path) -> None:
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"\x1c\x00\x00\x00TFL3" + bytes(range(256)) * 4)
    target = parse_target("local")
    assert isinstance(target, LocalTarget)
    timed = target.time(
        {"fp32": tiny_models["fp32"], "int8": tiny_models["int8"], "fp16": corrupt},
        QUICK,
        tiny_models["inputs"],
    )
    assert set(timed) == {"fp32", "int8"}
    for per_threads in timed.values():
        assert set(per_threads) == {1, 2}
        for latency in per_threads.values():
            assert latency.runs == 12
            assert 0 < latency.min <= latency.median <= latency.p90 <= latency.p99
            assert latency.init_ms
            assert latency.first_ms
            assert latency.peak_rss_kb
            assert latency.mean_only is False
    assert list(target.errors) == ["fp16"]
    assert "\n" not in target.errors["fp16"]
    assert target.errors["fp16"]  # the runtime's own words
    assert target.info.name == "local"
    assert target.info.device is False
    assert target.info.runtime.startswith("ai-edge-litert ")
    assert target.info.cores >= 1
    assert target.info.arch
    assert target.info.cpu


def test_local_target_without_ai_edge_litert_names_the_install(tiny_models: dict[str, Path]) -> None:
    bare = "/usr/bin/python3"  # Debian's python: no ai-edge-litert, no numpy
    if (
        not Path(bare).exists()
        or subprocess.run([bare, "-c", "import ai_edge_litert"], check=False).returncode == 0
    ):
        pytest.skip("needs a python3 without ai-edge-litert")
    target = LocalTarget(python=bare)
    with pytest.raises(ConfigError) as caught:
        target.time({"fp32": tiny_models["fp32"]}, QUICK, None)
    assert caught.value.exit_code == 3
    assert str(caught.value).startswith("local: ai-edge-litert cannot be imported: No module named")
    assert str(caught.value).endswith("(pip install ai-edge-litert, or pip install 'cml-suite[bench]')")
    assert "\n" not in str(caught.value)
