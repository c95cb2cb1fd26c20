"""cml.bench.targets: reading benchmark_model's output (mean only), pooling rounds, the taskset mask."""

from __future__ import annotations

import math

import pytest

from cml.bench.targets import AdbRun, mean_only, parse_benchmark, pin_mask

# The shapes benchmark_model prints (TFLite's tools/benchmark; older, newer with p5/median/p95, and as
# logcat shows it).
OLDER = """\
STARTING!
Num threads: [4]
Graph: [/data/local/tmp/cml-bench/fp32.tflite]
Loaded model /data/local/tmp/cml-bench/fp32.tflite
Initialized session in 17.187ms.
Running benchmark for at least 1 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
count=1 curr=3512391

Running benchmark for at least 50 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
count=50 first=2990275 curr=2913402 min=2727568 max=3189954 avg=2.95034e+06 std=109798

Inference timings in us: Init: 17187, First inference: 3512391, Warmup (avg): 3.51239e+06, Inference (avg): 2.95034e+06
Memory footprint delta from the start of the tool (MB): init=4.21094 overall=46.0859
"""
NEWER = """\
INFO: Running benchmark for at least 5 iterations and at least 0.5 seconds but terminate if exceeding 150 seconds.
INFO: count=9 first=87112 curr=51629 min=51629 max=87112 avg=58147.4 std=11478 p5=51629 median=51962 p95=87112

INFO: Running benchmark for at least 1000 iterations and at least 1 seconds but terminate if exceeding 150 seconds.
INFO: count=1000 first=52162 curr=49785 min=49088 max=686105 avg=63743.2 std=60716 p5=49620 median=51891 p95=68628

INFO: Inference timings in us: Init: 119515, First inference: 87112, Warmup (avg): 58147.4, Inference (avg): 63743.2
INFO: Overall peak memory footprint (MB) via periodic monitoring: 17.25
"""
LOGCAT = """\
I tflite  : Inference timings in us: Init: 92318, First inference: 187533, Warmup (avg): 211669, Inference (avg): 145528
I tflite  : Peak memory footprint (MB): init=4.92969 overall=138.809
"""


def test_older_output() -> None:
    assert parse_benchmark(OLDER) == AdbRun(
        init_us=17187, first_us=3512391, mean_us=2950340, count=50, min_us=2727568, std_us=109798
    )


def test_newer_output_with_peak_memory() -> None:
    assert parse_benchmark(NEWER) == AdbRun(
        init_us=119515, first_us=87112, mean_us=63743.2, count=1000, min_us=49088, std_us=60716, peak_mb=17.25
    )


def test_logcat_output_without_a_count_line() -> None:
    assert parse_benchmark(LOGCAT) == AdbRun(init_us=92318, first_us=187533, mean_us=145528, peak_mb=138.809)


@pytest.mark.parametrize(
    "failed",
    [
        "",
        "ERROR: The model is not a valid Flatbuffer buffer\nERROR: Failed to mmap model /data/local/tmp/x\n",
        "count=50 first=1 curr=1 min=1 max=1 avg=1 std=0\n",  # cut short before the timings line
    ],
)
def test_no_timings_line_is_a_failed_run(failed: str) -> None:
    assert parse_benchmark(failed) is None


def test_rounds_pool_into_one_mean_only_latency() -> None:
    first = AdbRun(init_us=2000, first_us=9000, mean_us=4000, count=10, min_us=3500, std_us=100, peak_mb=10)
    second = AdbRun(init_us=2100, first_us=9100, mean_us=6000, count=30, min_us=5000, std_us=200, peak_mb=12)
    latency = mean_only([first, second])
    mean = (10 * 4000 + 30 * 6000) / 40 / 1000
    assert latency.mean_only is True
    assert latency.median == latency.p90 == latency.p99 == pytest.approx(mean)
    assert latency.min == 3.5
    pooled = math.sqrt((10 * (100**2 + (4000 - 5500) ** 2) + 30 * (200**2 + (6000 - 5500) ** 2)) / 40) / 1000
    assert latency.std == pytest.approx(pooled)
    assert latency.cv == pytest.approx(pooled / mean)
    assert latency.runs == 40
    assert (latency.init_ms, latency.first_ms) == (2.0, 9.0)
    assert latency.peak_rss_kb == 12 * 1024


def test_a_run_without_min_or_std_counts_its_mean() -> None:
    latency = mean_only([AdbRun(init_us=1, first_us=2, mean_us=3000)])
    assert (latency.min, latency.std, latency.runs, latency.peak_rss_kb) == (3.0, 0.0, 1, None)


@pytest.mark.parametrize(
    ("cores", "threads", "mask"),
    [(8, 1, "f0"), (8, 4, "f0"), (8, 5, ""), (4, 2, "c"), (6, 3, "38"), (2, 1, "2"), (1, 1, ""), (0, 1, "")],
)
def test_the_pin_mask_is_the_upper_half_of_the_cores(cores: int, threads: int, mask: str) -> None:
    assert pin_mask(cores, threads) == mask
