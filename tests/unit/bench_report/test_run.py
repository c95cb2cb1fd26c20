"""cml.bench.run.bench with stand-in layers: order of work, files written, baseline, gate, failures."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cml.bench import Method
from cml.bench import results as res
from cml.bench.run import Options, TargetOptions, bench, summary
from cml.ci import CIContext
from cml.errors import HostError, InputError, UsageError
from cml.report.gate import parse_rule
from tests.conftest import git
from tests.fakes import plots as standin
from tests.unit.bench_report.standins import make_parts


@pytest.fixture
def work(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(repo)
    standin.install(monkeypatch)
    (repo / "model.keras").write_bytes(b"keras")
    return repo


def _ctx(root: Path) -> CIContext:
    return CIContext(
        provider="local", forge="local", repo="r", sha=git(root, "rev-parse", "HEAD"), workdir=root
    )


def _opts(root: Path, **kw: object) -> Options:
    base = {"model": root / "model.keras", "output": root / "out", "method": Method(runs=5)}
    return Options(**{**base, **kw})  # type: ignore[arg-type]


def test_a_run_writes_report_results_plot_and_models(work: Path) -> None:
    parts, calls = make_parts()
    done = bench(_opts(work), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    assert [name for name, _ in calls.log] == ["parse_target", "convert", "time"]  # no data: no accuracy
    assert calls.log[2][1] == ("local", ["dynamic", "fp16", "fp32"], (1,), None)
    out = work / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "convert.log",
        "models",
        "plot-1.png",
        "report.md",
        "results.json",
    ]
    assert res.load(out / "results.json") == done.results
    int8 = done.results.variants[3]
    assert (int8.variant, int8.latency, int8.notes) == (
        "int8",
        {},
        ("skipped: no --representative or --eval data",),
    )
    report = (out / "report.md").read_text()
    assert report.startswith("<!-- cml:data v1 ")
    assert "![Latency](plot-1.png)" in report
    assert "skipped: no --representative or --eval data" in report
    assert standin.read(out / "plot-1.png")["series"][0]["x"] == ["fp32", "dynamic", "fp16"]
    assert done.base is None
    assert done.gate.conclusion == "success"


def test_accuracy_with_eval_data_against_the_original_outputs_conversion_saved(work: Path) -> None:
    parts, calls = make_parts()
    eval_data = work / "eval.npz"
    eval_data.write_bytes(b"npz")
    done = bench(_opts(work, eval_data=eval_data), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    (evaluate,) = [args for name, args in calls.log if name == "evaluate"]
    saved = work / "out" / "models" / "original.npy"  # TensorFlow is not started a second time
    assert evaluate == (["dynamic", "fp16", "fp32", "int8"], saved, eval_data, None)
    assert [name for name, _ in calls.log] == ["parse_target", "convert", "time", "evaluate"]
    assert done.metrics["int8.accuracy"] == 0.975


def test_accuracy_against_the_model_itself_when_conversion_saved_no_outputs(work: Path) -> None:
    parts, calls = make_parts()
    convert = parts.convert

    def without_outputs(model: Path, variants: Any, out_dir: Path, **kw: Any) -> Any:
        done = convert(model, variants, out_dir, **kw)
        (out_dir / "original.npy").unlink()
        return done

    eval_data = work / "eval.npz"
    eval_data.write_bytes(b"npz")
    parts = replace(parts, convert=without_outputs)
    bench(_opts(work, eval_data=eval_data), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    (evaluate,) = [args for name, args in calls.log if name == "evaluate"]
    assert evaluate[1] == work / "model.keras"


def test_a_tflite_model_has_no_original(work: Path) -> None:
    parts, calls = make_parts()
    model = work / "m.tflite"
    model.write_bytes(b"TFL3")
    (work / "r.npy").write_bytes(b"npy")
    bench(
        _opts(work, model=model, representative=work / "r.npy"),
        ctx=_ctx(work),
        forge=None,
        cwd=work,
        layers=parts,
    )
    (evaluate,) = [args for name, args in calls.log if name == "evaluate"]
    assert evaluate[1] is None
    assert evaluate[3] == work / "r.npy"
    time = next(args for name, args in calls.log if name == "time")
    assert time[3] == work / "r.npy"  # timing inputs: the representative data


def test_missing_inputs_fail_before_any_work(work: Path) -> None:
    parts, calls = make_parts()
    with pytest.raises(InputError, match=r"nope\.keras: no such file or folder \(MODEL\)"):
        bench(_opts(work, model=work / "nope.keras"), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    with pytest.raises(InputError, match=r"e\.npz: no such file or folder \(--eval\)"):
        bench(_opts(work, eval_data=work / "e.npz"), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    assert calls.log == []


def test_a_bad_target_or_an_unknown_metric_fails_before_any_work(work: Path) -> None:
    parts, calls = make_parts()
    with pytest.raises(UsageError, match="--target 'adb:R58M': expected local"):
        bench(_opts(work, targets=("local", "adb:R58M")), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    rules = (parse_rule("int4.p50 > +10%", "fail"),)
    with pytest.raises(UsageError, match=r"unknown metric 'int4.p50' \(metrics: fp32.size, fp32.p50"):
        bench(_opts(work, rules=rules), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    assert [name for name, _ in calls.log] == ["parse_target", "parse_target", "parse_target"]
    assert not (work / "out").exists()


def test_target_options_reach_parse_target_only_when_set(work: Path) -> None:
    parts, calls = make_parts()
    hosts = TargetOptions(identity=Path("id"), accept_new=True)
    bench(_opts(work, target_options=hosts), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    assert calls.log[0] == ("parse_target", ("local", {"identity": Path("id"), "accept_new": True}))


def test_baseline_file_deltas_and_the_gate(work: Path) -> None:
    base_parts, _ = make_parts()
    base = bench(_opts(work, output=work / "base"), ctx=_ctx(work), forge=None, cwd=work, layers=base_parts)
    parts, _ = make_parts(scale=1.2)
    rules = (
        parse_rule("fp32.p50 > +10%", "fail"),
        parse_rule("fp16.size > +0%", "warn"),
        parse_rule("int8.p50 > +10%", "fail"),  # int8 was skipped: not checked
    )
    done = bench(
        _opts(work, rules=rules, baseline=base.json), ctx=_ctx(work), forge=None, cwd=work, layers=parts
    )
    assert [c.rule.text for c in done.gate.failed] == ["fp32.p50 > +10%"]
    assert [c.outcome for c in done.gate.checks] == ["tripped", "passed", "skipped"]
    assert done.base_origin == f"`{base.json}`"
    report = done.report.read_text()
    assert "❌ **Gate failed:** `fp32.p50 > +10%` (Δ% 20)" in report
    assert "| 9.96 ms (+20%) |" in report
    assert summary(done)["failed"] == ["fp32.p50 > +10%"]


def test_a_bad_baseline_file_fails_before_any_work(work: Path) -> None:
    parts, calls = make_parts()
    (work / "base.json").write_text(json.dumps({"format": "cml-bench", "version": 7}))
    with pytest.raises(InputError, match=r"base\.json: results format version 7 is newer"):
        bench(_opts(work, baseline=work / "base.json"), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    assert "convert" not in [name for name, _ in calls.log]


def test_every_variant_failing_is_an_input_error(work: Path) -> None:
    parts, _ = make_parts(failing={"fp32": "Select TF ops", "int8": "no kernel"})
    with pytest.raises(
        InputError,
        match=r"model.keras: no variant could be converted \(fp32: Select TF ops; int8: no kernel\)",
    ):
        bench(_opts(work, variants=("fp32", "int8")), ctx=_ctx(work), forge=None, cwd=work, layers=parts)


def test_a_variant_failure_is_its_row(work: Path) -> None:
    parts, _ = make_parts(failing={"fp16": "fp16: converter error"})
    done = bench(_opts(work), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    assert summary(done)["errors"] == {"fp16": "fp16: converter error"}
    assert "| fp16: converter error" in done.report.read_text()


def test_an_unreachable_target_is_a_host_error(work: Path) -> None:
    parts, _ = make_parts(unreachable=["ssh://pi@10.0.0.5"])
    with pytest.raises(HostError, match="connection refused"):
        bench(_opts(work, targets=("ssh://pi@10.0.0.5",)), ctx=_ctx(work), forge=None, cwd=work, layers=parts)


def test_without_a_renderer_the_report_says_so(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cml.report.plots", None)
    parts, _ = make_parts()
    done = bench(_opts(work), ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    report = done.report.read_text()
    assert "> Plot not rendered: plot rendering is not available in this install" in report
    assert "![Latency]" not in report


def test_several_targets_name_metrics_by_target(work: Path) -> None:
    parts, _ = make_parts()
    rules = (parse_rule("adb://R58M/fp32@1.p50 > 20", "fail"),)
    opts = _opts(work, targets=("local", "adb://R58M"), rules=rules, method=Method(threads=(1, 4)))
    done = bench(opts, ctx=_ctx(work), forge=None, cwd=work, layers=parts)
    assert done.metrics["adb://R58M/fp32@1.p50"] == pytest.approx(8.3 * 3)
    assert [t.name for t in done.results.targets] == ["local", "adb://R58M"]
    assert [c.rule.text for c in done.gate.failed] == ["adb://R58M/fp32@1.p50 > 20"]  # 24.9 ms
    # with several thread counts a name without @N names nothing
    opts = replace(opts, rules=(parse_rule("adb://R58M/fp32.p50 > 20", "fail"),))
    with pytest.raises(UsageError, match=r"unknown metric 'adb://R58M/fp32\.p50'"):
        bench(opts, ctx=_ctx(work), forge=None, cwd=work, layers=parts)


def test_measure_resolves_the_forge_and_posts_the_table(work: Path) -> None:
    from cml.bench.run import measure
    from cml.session import Access

    parts, _calls = make_parts()
    done = measure(_opts(work, post=True), {}, access=Access(forge="local"), cwd=work, layers=parts)
    assert done.posted is not None
    assert done.posted.action == "created"
    [stored] = (work / ".cml" / "comments").glob("*.json")
    [comment] = json.loads(stored.read_text(encoding="utf-8"))
    assert str(comment["id"]) == done.posted.id
    assert 'title="Mobile benchmark"' in comment["body"]
    assert done.report == work / "out" / "report.md"


def test_measure_outside_git_runs_ad_hoc_and_refuses_to_post(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cml.bench.run import measure
    from cml.errors import ConfigError

    monkeypatch.chdir(tmp_path)
    standin.install(monkeypatch)
    (tmp_path / "model.keras").write_bytes(b"keras")
    parts, _calls = make_parts()
    done = measure(_opts(tmp_path), {}, cwd=tmp_path, layers=parts)
    assert (done.posted, done.base) == (None, None)
    assert done.results.commit == ""
    with pytest.raises(ConfigError):
        measure(_opts(tmp_path, post=True), {}, cwd=tmp_path, layers=parts)
