# ruff: noqa: E402  (imports below the importorskip of numpy)
"""cml.bench.harness without a runtime: the job check, inputs, the timed loop, and the shuffled interleaved
rounds (with a stand-in Interpreter class that records every call)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# Skipped, not failed, where only the dev extra is installed (plain `pytest`, the fast lane).
np = pytest.importorskip("numpy", reason="needs the bench extra: pip install -e '.[dev,bench]'")

from cml.bench import harness

METHOD = {"warmup": 2, "warmup_secs": 0.0, "runs": 6, "min_secs": 0.0, "repeats": 3, "threads": [1, 2]}


class StandInInterpreter:
    """Records ``(event, path, threads)``; a path containing "corrupt" fails to load, "late" fails on
    the 8th invoke (as a kernel error would)."""

    calls: list[tuple[str, str, int]] = []

    def __init__(self, *, model_path: str, num_threads: int) -> None:
        if "corrupt" in model_path:
            raise ValueError("The model is not a valid Flatbuffer buffer")
        self.path, self.threads, self.invokes = model_path, num_threads, 0
        self.calls.append(("init", model_path, num_threads))

    def allocate_tensors(self) -> None:
        self.calls.append(("allocate", self.path, self.threads))

    def get_input_details(self) -> list[dict[str, Any]]:
        return [{"index": 0, "shape": np.array([1, 3]), "dtype": np.float32, "quantization": (0.0, 0)}]

    def set_tensor(self, index: int, value: Any) -> None:
        self.calls.append(("set", self.path, self.threads))

    def invoke(self) -> None:
        self.invokes += 1
        if "late" in self.path and self.invokes == 8:
            raise RuntimeError("Node number 3 (CONV_2D) failed to invoke.\nsecond line")
        self.calls.append(("invoke", self.path, self.threads))


def _job(models: dict[str, str], seed: int = 0, **method: Any) -> dict[str, Any]:
    return {"models": models, "method": {**METHOD, **method}, "seed": seed, "inputs": None}


def _measure(job: dict[str, Any]) -> dict[str, Any]:
    StandInInterpreter.calls = []
    return harness.measure(job, StandInInterpreter)


def test_the_harness_imports_nothing_but_stdlib_numpy_and_ai_edge_litert() -> None:
    tree = ast.parse(Path(harness.__file__).read_text())
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"numpy", "ai_edge_litert", "__future__"}
    assert roots <= allowed, roots - allowed
    assert "cml" not in roots


def test_each_round_visits_every_variant_once_in_a_seeded_shuffle() -> None:
    models = {v: f"/m/{v}.tflite" for v in ("fp32", "dynamic", "fp16", "int8")}
    result = _measure(_job(models, seed=7))
    order = result["order"]
    assert [(o["threads"], o["repeat"]) for o in order] == [(t, r) for t in (1, 2) for r in range(3)]
    assert all(sorted(o["variants"]) == sorted(models) for o in order)
    assert len({tuple(o["variants"]) for o in order}) > 1  # shuffled, not one fixed order
    # the invokes happened in that order: round by round, variant by variant
    visited = []
    for event, path, threads in StandInInterpreter.calls:
        variant = Path(path).stem
        if event == "invoke" and (not visited or visited[-1] != (threads, variant)):
            visited.append((threads, variant))
    assert visited == [(o["threads"], v) for o in order for v in o["variants"]]
    again = _measure(_job(models, seed=7))["order"]
    assert again == order
    assert _measure(_job(models, seed=8))["order"] != order


def test_runs_per_round_add_up_to_at_least_runs_and_init_first_warmup_are_separate() -> None:
    result = _measure(_job({"fp32": "/m/fp32.tflite"}, runs=7, repeats=3, warmup=4))
    run = result["variants"]["fp32"]["threads"]["1"]
    assert len(run["times_ms"]) == 9  # ceil(7 / 3) per round, 3 rounds
    assert all(t >= 0 for t in run["times_ms"])
    assert run["init_ms"] > 0
    assert run["first_ms"] > 0
    invokes = [c for c in StandInInterpreter.calls if c[0] == "invoke" and c[2] == 1]
    # first + 4 warm-up + one untimed invoke before each later round + 9 timed
    assert len(invokes) == 1 + 4 + 2 + 9
    inits = [c for c in StandInInterpreter.calls if c[0] == "init"]
    assert inits == [("init", "/m/fp32.tflite", 1), ("init", "/m/fp32.tflite", 2)]  # one per thread count
    assert [c for c in StandInInterpreter.calls if c[0] == "set"] == [
        ("set", "/m/fp32.tflite", 1),
        ("set", "/m/fp32.tflite", 2),
    ]  # the input is set once per interpreter, never per run


def test_a_variant_that_fails_is_an_error_and_the_others_still_run() -> None:
    models = {"fp32": "/m/fp32.tflite", "int8": "/m/corrupt.tflite", "fp16": "/m/late.tflite"}
    result = _measure(_job(models))
    variants = result["variants"]
    assert variants["int8"] == {"error": "The model is not a valid Flatbuffer buffer", "threads": {}}
    assert variants["fp16"] == {
        "error": "Node number 3 (CONV_2D) failed to invoke. second line",
        "threads": {},
    }
    assert set(variants["fp32"]["threads"]) == {"1", "2"}
    later = [o["variants"] for o in result["order"] if (o["threads"], o["repeat"]) != (1, 0)]
    assert all(v == ["fp32"] for v in later[1:])  # failed variants are not visited again


def test_timed_stops_at_the_cap_but_never_before_runs() -> None:
    out: list[int] = []
    harness._timed(lambda: None, 5, 60.0, 20, out)
    assert len(out) == 20
    out = []
    harness._timed(lambda: None, 30, 0.0, 20, out)
    assert len(out) == 30


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ({"dtype": np.int8, "quantization": (0.5, -3)}, np.array([[-3, -2, -1, 127]], dtype=np.int8)),
        ({"dtype": np.uint8, "quantization": (0.0, 0)}, np.array([[0, 128, 255, 255]], dtype=np.uint8)),
        ({"dtype": np.float32, "quantization": (0.0, 0)}, np.array([[0, 0.5, 1, 100]], dtype=np.float32)),
    ],
)
def test_float_inputs_are_quantized_with_the_input_scale(detail: dict[str, Any], expected: Any) -> None:
    got = harness._quantize(np.array([[0.0, 0.5, 1.0, 100.0]], dtype=np.float32), detail)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_inputs_from_npy_take_the_first_rows_and_refuse_a_shape_mismatch(tmp_path: Path) -> None:
    npy = tmp_path / "x.npy"
    np.save(npy, np.arange(12, dtype=np.float32).reshape(4, 3))
    detail = {"index": 0, "shape": np.array([1, 3]), "dtype": np.float32, "quantization": (0.0, 0)}
    (got,) = harness._input_data([detail], 0, str(npy))
    np.testing.assert_array_equal(got, [[0, 1, 2]])
    with pytest.raises(ValueError, match=r"shape \(4, 3\) does not fit the model input \(1, 5\)"):
        harness._input_data([{**detail, "shape": np.array([1, 5])}], 0, str(npy))


def test_random_inputs_are_seeded() -> None:
    detail = {"index": 0, "shape": np.array([1, 5]), "dtype": np.float32, "quantization": (0.0, 0)}
    one, two = harness._input_data([detail], 3, None), harness._input_data([detail], 3, None)
    np.testing.assert_array_equal(one[0], two[0])
    assert not np.array_equal(one[0], harness._input_data([detail], 4, None)[0])


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ("not json", "the job is not JSON"),
        ("[]", "the job is not a JSON object"),
        (
            '{"models": {"fp32": 1}, "method": {}}',
            "models: expected an object of variant name to .tflite path",
        ),
        ('{"models": {}, "method": {"warmup": 1, "runs": 1, "repeats": 0}}', "method.repeats: expected"),
        (
            '{"models": {}, "method": {"warmup": 1, "runs": 1, "repeats": 1, "warmup_secs": 0, "min_secs": 0,'
            ' "threads": [0]}}',
            "method.threads: expected a list of positive whole numbers",
        ),
    ],
)
def test_a_malformed_job_is_a_bad_job_result_exit_2(job: str, message: str) -> None:
    done = subprocess.run(
        [sys.executable, "-I", harness.__file__], input=job, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    result = json.loads(done.stdout)
    assert result["harness"] == 1
    assert result["kind"] == "bad-job"
    assert result["fatal"].startswith(message)


def test_without_ai_edge_litert_the_result_says_no_runtime_exit_3() -> None:
    job = json.dumps(_job({"fp32": "/m/fp32.tflite"}))
    # -S: no site-packages, so neither ai-edge-litert nor numpy can be imported
    done = subprocess.run(
        [sys.executable, "-I", "-S", harness.__file__], input=job, capture_output=True, text=True, check=False
    )
    assert done.returncode == 3
    result = json.loads(done.stdout)
    assert result["kind"] == "no-runtime"
    assert result["fatal"].startswith("ai-edge-litert cannot be imported: No module named")
