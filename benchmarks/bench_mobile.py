"""`cml bench` side by side with what a user would write by hand, in one run (issue 9's benchmark).

Run: /work/main/.venv/bin/python benchmarks/bench_mobile.py [--quick]
Prints three measurements, each against its target:

(a) harness overhead: the median per-run time the ``local`` target's harness reports for MobileNetV2 fp32,
    against a bare ``Interpreter.invoke()`` loop on the same model and thread count (each in a fresh child
    process, alternated): <= 2 %;
(b) run-to-run stability: the coefficient of variation of the fp32 p50 over several harness runs: <= 5 %;
(c) end to end: ``cml bench`` (four variants converted, accuracy on --eval data, three repeats) against a
    hand-written script doing the same work (convert the four variants sequentially, the same number of
    ``invoke()`` calls, the same accuracy): cml no slower (ratio <= 1.0).

MobileNetV2 is ``keras.applications.MobileNetV2(weights=None)``: random weights, nothing downloaded; the eval
data are random images with random labels (accuracy is computed, not meaningful). Needs the bench extra
(TensorFlow, ai-edge-litert) and cml's bench layers (``cml.bench.convert``, ``.accuracy``, ``.targets``); without
them it says which is missing and exits 0, so ``./dev bench`` still runs the other benchmarks.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT  # the checkout whose cml this process imports

QUICK = "--quick" in sys.argv
RUNS, WARMUP, REPEATS = (20, 5, 3) if QUICK else (100, 20, 3)
CV_ROUNDS = 3 if QUICK else 5
EVAL_SAMPLES = 16 if QUICK else 64
VARIANTS = ("fp32", "dynamic", "fp16", "int8")
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3"}

_MAKE_MODEL = """
import sys, numpy as np, keras
model = keras.applications.MobileNetV2(weights=None, input_shape=(224, 224, 3))
model.save(sys.argv[1])
rng = np.random.default_rng(0)
x = rng.random((int(sys.argv[3]), 224, 224, 3), dtype=np.float32)
np.savez(sys.argv[2], x=x, y=rng.integers(0, 1000, len(x)))
import tensorflow as tf
converter = tf.lite.TFLiteConverter.from_keras_model(model)
open(sys.argv[4], "wb").write(converter.convert())
"""

#: A bare loop: create, allocate, warm up, time N invoke() calls; print the median in ms.
_BARE = """
import sys, time, statistics, numpy as np
from ai_edge_litert.interpreter import Interpreter
path, runs, warmup, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
interp = Interpreter(model_path=path, num_threads=threads)
interp.allocate_tensors()
inp = interp.get_input_details()[0]
interp.set_tensor(inp["index"], np.random.default_rng(0).random(inp["shape"], dtype=np.float32))
for _ in range(warmup):
    interp.invoke()
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    interp.invoke()
    times.append((time.perf_counter() - t0) * 1000)
print(statistics.median(times))
"""

#: What a user writes by hand: convert four variants in one process, time them, compute accuracy.
_HAND = """
import sys, time, numpy as np, tensorflow as tf, keras
from ai_edge_litert.interpreter import Interpreter
model_path, eval_path, out, runs, warmup, repeats = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:7])
model = keras.models.load_model(model_path)
data = np.load(eval_path)
x, y = data["x"], data["y"]
original = float((model.predict(x, verbose=0).argmax(1) == y).mean())
files = {}
for variant in ("fp32", "dynamic", "fp16", "int8"):
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if variant != "fp32":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    if variant == "int8":
        converter.representative_dataset = lambda: ([x[i : i + 1]] for i in range(len(x)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = converter.inference_output_type = tf.int8
    files[variant] = f"{out}/{variant}.tflite"
    open(files[variant], "wb").write(converter.convert())
for variant, path in files.items():
    interp = Interpreter(model_path=path, num_threads=1)
    interp.allocate_tensors()
    inp, outp = interp.get_input_details()[0], interp.get_output_details()[0]
    def feed(batch):
        if inp["dtype"] == np.int8:
            scale, zero = inp["quantization"]
            batch = np.clip(np.round(batch / scale + zero), -128, 127).astype(np.int8)
        interp.set_tensor(inp["index"], batch)
    feed(x[:1])
    for _ in range(warmup):
        interp.invoke()
    times = []
    for _ in range(runs * repeats):
        t0 = time.perf_counter()
        interp.invoke()
        times.append(time.perf_counter() - t0)
    hits = 0
    for i in range(len(x)):
        feed(x[i : i + 1])
        interp.invoke()
        hits += int(interp.get_tensor(outp["index"]).argmax() == y[i])
    print(variant, f"p50 {sorted(times)[len(times) // 2] * 1000:.2f} ms", f"acc {hits / len(x):.3f} (orig {original:.3f})")
"""


def py(*argv: str, cwd: Path | None = None) -> str:
    """Run this Python with ``argv``; its stdout (raises with stderr's tail when it fails)."""
    done = subprocess.run(
        [sys.executable, *argv], env=ENV, cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"failed: {argv[:3]}...\n{done.stderr[-2000:]}")
    return done.stdout


def missing() -> list[str]:
    """What this benchmark needs and this install lacks."""
    need = ("tensorflow", "ai_edge_litert", "cml.bench.convert", "cml.bench.accuracy", "cml.bench.targets")
    return [name for name in need if importlib.util.find_spec(name) is None]


def harness_median(model: Path) -> float:
    """One run of the ``local`` target's harness on ``model`` (fp32, 1 thread): its median in ms."""
    from cml.bench import Method

    parse_target = importlib.import_module("cml.bench.targets").parse_target
    method = Method(warmup=WARMUP, warmup_secs=0.0, runs=RUNS, min_secs=0.0, repeats=1, threads=(1,))
    timed = parse_target("local").time({"fp32": model}, method, None)
    return timed["fp32"][1].median


def overhead_and_cv(model: Path) -> tuple[float, float, list[float]]:
    """(a) and (b): harness and bare medians alternated, each in fresh processes."""
    ours, bare = [], []
    for _ in range(CV_ROUNDS):
        ours.append(harness_median(model))
        bare.append(float(py("-c", _BARE, str(model), str(RUNS), str(WARMUP), "1")))
    overhead = statistics.median(ours) / statistics.median(bare) - 1
    cv = statistics.stdev(ours) / statistics.mean(ours)
    return overhead, cv, ours


def end_to_end(work: Path, model: Path, eval_data: Path) -> tuple[float, float]:
    """(c): wall time of `cml bench` and of the hand-written script doing the same work."""
    t0 = time.perf_counter()
    py(
        "-m", "cml", "bench", str(model), "--eval", str(eval_data), "--variants", ",".join(VARIANTS),
        "--runs", str(RUNS), "--min-secs", "0", "--warmup", str(WARMUP), "--warmup-secs", "0",
        "--repeats", str(REPEATS), "--output", str(work / "cml-bench"), cwd=work,
    )  # fmt: skip
    cml_s = time.perf_counter() - t0
    hand_dir = work / "hand"
    hand_dir.mkdir()
    t0 = time.perf_counter()
    lines = py("-c", _HAND, str(model), str(eval_data), str(hand_dir), str(RUNS), str(WARMUP), str(REPEATS))
    for line in lines.splitlines():  # TensorFlow prints its own noise on stdout too
        if line.startswith(VARIANTS):
            print(f"    hand-written: {line}")
    hand_s = time.perf_counter() - t0
    return cml_s, hand_s


def main() -> None:
    lacking = missing()
    if lacking:
        print(f"bench_mobile: skipped, this install lacks {', '.join(lacking)}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model, eval_data, fp32 = work / "mobilenet_v2.keras", work / "eval.npz", work / "fp32.tflite"
        py("-c", _MAKE_MODEL, str(model), str(eval_data), str(EVAL_SAMPLES), str(fp32))
        overhead, cv, medians = overhead_and_cv(fp32)
        cml_s, hand_s = end_to_end(work, model, eval_data)
        report = json.loads((work / "cml-bench" / "results.json").read_text())
    print(f"(a) harness overhead vs bare invoke()  {overhead * 100:+6.2f} %   (target <= +2 %)")
    print(f"(b) fp32 p50 run-to-run cv             {cv * 100:6.2f} %   (target <= 5 %; medians {medians})")
    print(f"(c) end to end: cml bench {cml_s:6.1f} s, hand-written {hand_s:6.1f} s, "
          f"ratio {cml_s / hand_s:4.2f}   (target <= 1.0)")  # fmt: skip
    print(f"    cml bench timed {[v['variant'] for v in report['variants'] if v['latency']]}")


if __name__ == "__main__":
    main()
