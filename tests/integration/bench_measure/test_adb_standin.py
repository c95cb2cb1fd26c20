"""AdbTarget against a stand-in ``adb`` on PATH that executes locally (no device can be attached here):
``push`` copies under a local device root, ``shell`` runs the command with sh there. The stand-in
``benchmark_model`` prints the real tool's output format and logs its arguments and CPU affinity."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from cml.bench import Method
from cml.bench.targets import ADB_FOLDER, AdbTarget, TargetOptions, parse_target
from cml.errors import ConfigError, HostError, InputError

SERIAL = "emulator-5554"
METHOD = Method(warmup=3, warmup_secs=0.5, runs=20, min_secs=1.0, repeats=2, threads=(1, 2), seed=4)

STAND_IN_ADB = r"""
import json, os, shutil, subprocess, sys
root, log = os.environ["STANDIN_DEVICE"], os.environ["STANDIN_ADB_LOG"]
args = sys.argv[1:]
with open(log, "a") as out:
    out.write(json.dumps(args) + "\n")
if args[:2] != ["-s", "emulator-5554"]:
    sys.exit(f"adb: device '{args[1] if len(args) > 1 else ''}' not found")
verb, rest = args[2], args[3:]
if verb == "push":
    source, dest = rest
    if not source.startswith("/"):
        sys.exit(f"adb: refusing a relative source {source}")
    target = root + dest
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(source, target)
    print(f"{source}: 1 file pushed, 0 skipped.")
elif verb == "shell":
    command = " ".join(rest).replace("/data/local/tmp", root + "/data/local/tmp")
    sys.exit(subprocess.run(["sh", "-c", command]).returncode)
else:
    sys.exit(f"adb: unknown command {verb}")
"""

STAND_IN_BENCHMARK_MODEL = r"""
import json, os, sys
flags = dict(a[2:].split("=", 1) for a in sys.argv[1:])
with open(os.environ["STANDIN_BM_LOG"], "a") as out:
    out.write(json.dumps({"flags": flags, "cpus": sorted(os.sched_getaffinity(0))}) + "\n")
graph = flags["graph"]
print("INFO: STARTING!")
print(f"INFO: Num threads: [{flags['num_threads']}]")
print(f"INFO: Graph: [{graph}]")
with open(graph, "rb") as model:
    head = model.read(8)
if head[4:8] != b"TFL3":
    print(f"ERROR: Failed to mmap model {graph}", file=sys.stderr)
    print("ERROR: The model is not a valid Flatbuffer buffer", file=sys.stderr)
    sys.exit(1)
avg = {"fp32": 5000.0, "int8": 2000.0, "dynamic": 4000.0}[os.path.basename(graph)[:-7]]
avg = avg / int(flags["num_threads"])
runs = int(flags["num_runs"])
print("INFO: Initialized session in 2.5ms.")
print("INFO: Running benchmark for at least 3 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.")
print(f"INFO: count=7 first={avg * 3:.0f} curr={avg:.0f} min={avg:.0f} max={avg * 3:.0f} avg={avg * 1.2:g} std=900")
print("")
print(f"INFO: Running benchmark for at least {runs} iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.")
print(f"INFO: count={runs} first={avg:.0f} curr={avg:.0f} min={avg * 0.9:.0f} max={avg * 1.5:.0f} avg={avg:g} std=100")
print("")
print(f"INFO: Inference timings in us: Init: 2500, First inference: {avg * 3:.0f}, Warmup (avg): {avg * 1.2:g}, Inference (avg): {avg:g}")
print("INFO: Memory footprint delta from the start of the tool (MB): init=1.5 overall=6.25")
print("INFO: Overall peak memory footprint (MB) via periodic monitoring: 9.5")
"""

GETPROP = """#!/bin/sh
case "$1" in
  ro.product.model) echo "Pixel 8" ;;
  ro.soc.model) echo "Tensor G3" ;;
  ro.product.cpu.abi) echo arm64-v8a ;;
esac
"""


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!{sys.executable}\n{body}")
    path.chmod(0o755)
    return path


@pytest.fixture
def device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A stand-in adb (and getprop) first on PATH, a local device root, the stand-in benchmark_model and
    the logs of both."""
    bin_dir, root = tmp_path / "bin", tmp_path / "device"
    bin_dir.mkdir()
    root.mkdir()
    _script(bin_dir / "adb", STAND_IN_ADB)
    (bin_dir / "getprop").write_text(GETPROP)
    (bin_dir / "getprop").chmod(0o755)
    binary = _script(tmp_path / "benchmark_model", STAND_IN_BENCHMARK_MODEL)
    logs = {"adb_log": tmp_path / "adb.log", "bm_log": tmp_path / "bm.log"}
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("STANDIN_DEVICE", str(root))
    monkeypatch.setenv("STANDIN_ADB_LOG", str(logs["adb_log"]))
    monkeypatch.setenv("STANDIN_BM_LOG", str(logs["bm_log"]))
    return {"root": root, "binary": binary, **logs}


def _models(tmp_path: Path) -> dict[str, Path]:
    models = {}
    for variant in ("fp32", "int8", "dynamic"):
        models[variant] = tmp_path / f"model-{variant}.tflite"
        models[variant].write_bytes(b"\x1c\x00\x00\x00TFL3" + b"\x00" * 64)
    return models


def _lines(path: Path) -> list[object]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_stand_in_adb_pushes_runs_shuffled_rounds_pinned_and_reads_mean_only_rows(
    device: dict[str, Path], tmp_path: Path
) -> None:
    target = parse_target(f"adb://{SERIAL}", TargetOptions(benchmark_binary=device["binary"]))
    assert isinstance(target, AdbTarget)
    timed = target.time(_models(tmp_path), METHOD, None)
    assert target.errors == {}
    for variant, mean_us in (("fp32", 5000.0), ("int8", 2000.0), ("dynamic", 4000.0)):
        for threads in (1, 2):
            latency = timed[variant][threads]
            mean = mean_us / threads / 1000
            assert latency.mean_only is True
            assert latency.median == latency.p90 == latency.p99 == pytest.approx(mean)
            assert latency.min == pytest.approx(round(mean_us / threads * 0.9) / 1000)
            assert latency.std == pytest.approx(0.1)
            assert latency.runs == 20  # 10 per round, 2 rounds
            assert latency.init_ms == 2.5
            assert latency.first_ms == pytest.approx(3 * mean)
            assert latency.peak_rss_kb == int(9.5 * 1024)
    assert target.info.cpu == "Pixel 8 Tensor G3"
    assert target.info.arch == "arm64-v8a"
    assert target.info.cores == os.cpu_count()  # the stand-in reads this machine's /sys
    assert target.info.runtime == "benchmark_model (user binary)"
    assert target.info.device is True
    runs = _lines(device["bm_log"])
    # the rounds ran in the recorded shuffled order, every variant once per round
    visited = [(int(r["flags"]["num_threads"]), Path(r["flags"]["graph"]).stem) for r in runs]
    assert visited == [(t, v) for t, _, order in target.order for v in order]
    assert [(t, r) for t, r, _ in target.order] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert all(sorted(order) == ["dynamic", "fp32", "int8"] for *_, order in target.order)
    assert len({order for *_, order in target.order}) > 1
    first = runs[0]["flags"]
    assert first["num_runs"] == "10"
    assert first["min_secs"] == "0.5"
    assert first["warmup_runs"] == "3"
    assert first["warmup_min_secs"] == "0.5"
    cores = os.cpu_count() or 1
    if cores >= 2:  # taskset pins one thread to the upper half of the cores
        assert runs[0]["cpus"] == list(range(cores // 2, cores))
    # every adb call names the device first; pushed paths are absolute; the device folder is removed
    calls = _lines(device["adb_log"])
    assert all(call[:2] == ["-s", SERIAL] for call in calls)
    pushes = [call for call in calls if call[2] == "push"]
    assert [p[4] for p in pushes] == [
        f"{ADB_FOLDER}/benchmark_model",
        f"{ADB_FOLDER}/fp32.tflite",
        f"{ADB_FOLDER}/int8.tflite",
        f"{ADB_FOLDER}/dynamic.tflite",
    ]
    assert all(str(p[3]).startswith("/") for p in pushes)
    assert calls[-1] == ["-s", SERIAL, "shell", f"rm -rf {ADB_FOLDER}"]
    assert not (device["root"] / ADB_FOLDER.lstrip("/")).exists()


def test_stand_in_adb_a_corrupt_model_is_that_variants_error(device: dict[str, Path], tmp_path: Path) -> None:
    models = _models(tmp_path)
    models["int8"].write_bytes(b"garbage garbage garbage")
    target = parse_target(f"adb://{SERIAL}", TargetOptions(benchmark_binary=device["binary"]))
    timed = target.time(models, METHOD, None)
    assert set(timed) == {"fp32", "dynamic"}
    assert target.errors == {
        "int8": "benchmark_model failed: ERROR: The model is not a valid Flatbuffer buffer"
    }
    runs = _lines(device["bm_log"])
    assert sum(Path(r["flags"]["graph"]).stem == "int8" for r in runs) == 1


def test_stand_in_adb_a_device_adb_cannot_find_is_a_host_error(
    device: dict[str, Path], tmp_path: Path
) -> None:
    target = parse_target("adb://R58M0000", TargetOptions(benchmark_binary=device["binary"]))
    with pytest.raises(HostError) as caught:
        target.time(_models(tmp_path), METHOD, None)
    assert caught.value.exit_code == 4
    assert str(caught.value).startswith("adb://R58M0000: `")
    assert str(caught.value).endswith("exited 1: adb: device 'R58M0000' not found")
    assert "\n" not in str(caught.value)


def test_stand_in_adb_without_benchmark_binary(device: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_target(f"adb://{SERIAL}").time(_models(tmp_path), METHOD, None)
    assert caught.value.exit_code == 3
    assert str(caught.value) == (
        f"adb://{SERIAL} needs --benchmark-binary (TFLite's benchmark_model for the device's ABI)"
    )
    target = parse_target(f"adb://{SERIAL}", TargetOptions(benchmark_binary=tmp_path / "nope"))
    with pytest.raises(InputError) as missing:
        target.time(_models(tmp_path), METHOD, None)
    assert str(missing.value) == f"--benchmark-binary {tmp_path / 'nope'}: not a file"
    assert not device["adb_log"].exists()  # adb was never called


def test_no_adb_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    binary = tmp_path / "benchmark_model"
    binary.write_text("")
    with pytest.raises(ConfigError) as caught:
        parse_target(f"adb://{SERIAL}", TargetOptions(benchmark_binary=binary)).time({}, METHOD, None)
    assert caught.value.exit_code == 3
    assert str(caught.value) == "adb is not on PATH (install Android platform-tools)"
