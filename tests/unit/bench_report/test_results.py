"""cml.bench.results: JSON round trip, versioning, malformed files as one-line errors, metric names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cml.bench import Converted, Results, VariantResult
from cml.bench import results as res
from cml.errors import InputError
from tests.unit.bench_report.samples import ADB, LOCAL, results


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    before = results(targets=(LOCAL, ADB), threads=(1, 4))
    before = Results(
        model=before.model, commit=before.commit, targets=before.targets, method=before.method,
        variants=(*before.variants[:3], VariantResult(variant="int8", error="no int8 kernel for X", notes=("n",))),
    )  # fmt: skip
    path = res.save(before, tmp_path / "out" / "results.json")
    data = json.loads(path.read_text())
    assert (data["format"], data["version"]) == ("cml-bench", 1)
    assert data["variants"][0]["latency"]["local"]["4"]["median"] == pytest.approx(8.3 / 4)
    assert res.load(path) == before


def _file(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "base.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _good() -> dict[str, Any]:
    return res.to_json(results())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: "{not json", "base.json: not JSON"),
        (lambda d: [1, 2], 'base.json: not a cml bench results file (no "format": "cml-bench")'),
        (lambda d: {**d, "format": "other"}, "not a cml bench results file"),
        (lambda d: {**d, "version": 2}, "base.json: results format version 2 is newer than this cml reads (1) (upgrade cml)"),
        (lambda d: {**d, "version": "1"}, "base.json: field 'version': expected a positive integer, got '1'"),
        (lambda d: {**d, "model": 3}, "base.json: field 'model': expected str, got int"),
        (lambda d: {k: v for k, v in d.items() if k != "model"}, "base.json: field 'model' is missing"),
        (lambda d: {**d, "variants": [{"variant": "int4"}]}, "base.json: variants[0]: field 'variant': expected one of fp32, dynamic, fp16, int8, got 'int4'"),
        (lambda d: {**d, "variants": ["x"]}, "base.json: variants[0]: expected an object, got str"),
        (lambda d: {**d, "variants": [{"variant": "fp32", "latency": {"local": {"one": {}}}}]}, "base.json: variants[0]: latency: 'local': 'one' is not a thread count"),
        (lambda d: {**d, "variants": [{"variant": "fp32", "latency": {"local": {"1": {"median": 1}}}}]}, "base.json: variants[0]: latency: 'local': 1: missing field"),
        (lambda d: {**d, "variants": [{"variant": "fp32", "latency": {"local": {"1": {**d["variants"][0]["latency"]["local"]["1"], "p90": "fast"}}}}]}, "base.json: variants[0]: latency: 'local': 1: field 'p90': expected float, got str"),
        (lambda d: {**d, "variants": [{"variant": "fp32", "accuracy": {"accuracy": True}}]}, "base.json: variants[0]: accuracy: field 'accuracy': expected float | None, got bool"),
        (lambda d: {**d, "method": {"threads": [0]}}, "base.json: method: field 'threads': expected a list of positive integers"),
        (lambda d: {**d, "targets": [{"cpu": "x"}]}, "base.json: targets[0]: missing field 'name'"),
    ],
)  # fmt: skip
def test_malformed_files_are_one_line_errors_naming_the_file(
    tmp_path: Path, mutate: Any, message: str
) -> None:
    path = _file(tmp_path, mutate(_good()))
    with pytest.raises(InputError) as info:
        res.load(path, "base.json")
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_file_and_a_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nope.json: no such file"):
        res.load(tmp_path / "nope.json", "nope.json")
    with pytest.raises(InputError, match="is a directory"):
        res.load(tmp_path, "dir")


def test_unknown_fields_are_ignored_for_minor_additions(tmp_path: Path) -> None:
    data = _good()
    data["variants"][0]["latency"]["local"]["1"]["p999"] = 12.0
    data["targets"][0]["gpu"] = "none"
    assert res.load(_file(tmp_path, data)) == results()


def test_metric_names_one_target_one_thread_count() -> None:
    m = res.metrics(results())
    assert m["int8.p50"] == pytest.approx(4.9)
    assert m["int8.p90"] == pytest.approx(4.9 * 1.1)
    assert m["fp32.size"] == 13_900_000
    assert m["int8.accuracy"] == 0.975
    assert m["int8.drop"] == pytest.approx(0.006)
    assert m["fp32.init"] == 12.0
    assert m["fp32.rss"] == 51200
    assert {n.split(".", 1)[1] for n in m} == {
        "size", "p50", "p90", "p99", "min", "std", "cv", "init", "first", "rss", "accuracy", "drop",
    }  # fmt: skip


def test_metric_names_with_several_targets_and_thread_counts() -> None:
    m = res.metrics(results(targets=(LOCAL, ADB), threads=(1, 4)))
    assert m["local/int8@4.p50"] == pytest.approx(4.9 / 4)
    assert m["adb://R58M/int8@1.p50"] == pytest.approx(4.9)
    assert "adb://R58M/int8@1.p90" not in m  # benchmark_model gives means only
    assert "adb://R58M/int8@1.rss" not in m
    assert m["int8.size"] == 3_900_000  # size and accuracy do not depend on the target
    assert "int8.p50" not in m


def test_directions() -> None:
    lower, higher = res.directions(["int8.p50", "int8.size", "int8.accuracy", "a/b@2.agreement", "int8.drop"])
    assert higher == {"int8.accuracy", "a/b@2.agreement"}
    assert lower == {"int8.p50", "int8.size", "int8.drop"}


def test_a_stored_block_that_does_not_read_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    assert res.from_block(None, "b" * 40) is None
    assert res.from_block({**_good(), "version": 9}, "b" * 40) is None
    assert (
        "ignoring the benchmark stored on bbbbbbb: stored benchmark on bbbbbbb: results format version 9"
        in caplog.text
    )
    assert res.from_block(_good(), "b" * 40) == results()


def test_converted_is_not_results() -> None:
    """The JSON holds Results only; a Converted is not accepted where variants are expected."""
    with pytest.raises(InputError, match="expected an object"):
        res.from_json({**_good(), "variants": [str(Converted(variant="fp32", path=None))]}, "x")
