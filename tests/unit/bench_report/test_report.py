"""cml.bench.report: the markdown table per target and thread count, the target line, Δ against the
base, the gate lines, hostile device strings, and the latency figure spec."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from cml.bench import Accuracy, Results, TargetInfo, VariantResult
from cml.bench import report as render
from cml.bench import results as res
from cml.report.diff import metric_rows
from cml.report.gate import evaluate, parse_rule
from tests.unit.bench_report.samples import ADB, LOCAL, results

HEAD = "| variant   | size    | Δsize   | p50"
X = "\u00d7"  # the multiplication sign of the speed-up column


def _rows(markdown: str) -> dict[str, str]:
    """Table rows by variant, cells stripped and joined by |."""
    out = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip("|"))]
        if line.startswith("| ") and cells[0] in ("fp32", "dynamic", "fp16", "int8"):
            out.setdefault(cells[0], " | ".join(cells))
    return out


def test_table_without_base() -> None:
    md = render.markdown(render.BenchReport(results=results()))
    assert "## Mobile benchmark" in md
    assert "No base benchmark found: Δ columns are empty." in md
    assert "### local · 1 thread" in md
    assert "`local`: Test CPU, 2 cores, x86_64, ai-edge-litert 2.3.0 — **host, not a device**" in md
    assert HEAD in md
    rows = _rows(md)
    assert rows["fp32"] == f"fp32 | 13.9 MB | — | 8.3 ms | 9.13 ms | 10.8 ms | 1.00{X} | 0.981 (±0) | "
    assert rows["int8"] == f"int8 | 3.9 MB | — | 4.9 ms | 5.39 ms | 6.37 ms | 1.69{X} | 0.975 (-0.006) | "
    assert rows["dynamic"].split(" | ")[6] == f"0.62{X}"


def test_deltas_against_the_base() -> None:
    base = results(scale=1.25, size_scale=0.5, commit="b" * 40)
    md = render.markdown(
        render.BenchReport(results=results(), base=base, base_origin="`bbbbbbb`, --baseline")
    )
    assert "Compared with `bbbbbbb`, --baseline." in md
    rows = _rows(md)
    assert rows["int8"].startswith("int8 | 3.9 MB | +100% | 4.9 ms (-20%) | 5.39 ms |")


def test_a_variant_new_since_the_base_and_a_failed_one() -> None:
    base = replace(results(), variants=results().variants[:1])
    head = results()
    failed = VariantResult(variant="int8", error="int8: no kernel for op X | Y", notes=("note <b>",))
    head = replace(head, variants=(*head.variants[:3], failed))
    rows = _rows(render.markdown(render.BenchReport(results=head, base=base)))
    assert rows["fp16"].endswith("| new")
    assert (
        rows["int8"]
        == "int8 | — | — | — | — | — | — | — | int8: no kernel for op X \\| Y; note &lt;b&gt;; new"
    )


def test_noisy_and_agreement_cells() -> None:
    head = results()
    v = head.variants[3]
    lat = replace(v.latency["local"][1], cv=0.23)
    noisy = replace(v, latency={"local": {1: lat}}, accuracy=Accuracy(agreement=0.992, max_abs_diff=0.0123))
    rows = _rows(render.markdown(render.BenchReport(results=replace(head, variants=(noisy,)))))
    assert rows["int8"].split(" | ")[6] == "—"  # no fp32 to compare with
    assert rows["int8"].endswith("agree 99.2%, max\\|Δ\\| 0.0123 | noisy: cv 23%")


def test_one_table_per_target_and_thread_count_and_mean_only() -> None:
    md = render.markdown(render.BenchReport(results=results(targets=(LOCAL, ADB), threads=(1, 4))))
    headings = [line for line in md.splitlines() if line.startswith("### ")]
    assert headings == [
        "### local · 1 thread", "### local · 4 threads", "### adb://R58M · 1 thread", "### adb://R58M · 4 threads",
    ]  # fmt: skip
    assert "`adb://R58M`: Kryo, 8 cores, arm64-v8a, benchmark_model — **mean only** (no percentiles)" in md
    adb = _rows(md[md.index("### adb://R58M · 1 thread") :])
    assert adb["int8"].startswith("int8 | 3.9 MB | — | 4.9 ms (mean) | — | — | 1.69")


def test_hostile_device_strings_cannot_break_the_table() -> None:
    evil = TargetInfo(name="ssh://pi@h", cpu="<img src=x onerror=alert(1)>|\n## owned", cores=4)
    head = replace(results(targets=(evil,)), model="m|<script>")
    md = render.markdown(render.BenchReport(results=head))
    assert "<img" not in md
    assert "<script>" not in md
    assert "\n## owned" not in md
    assert "&lt;img src=x onerror=alert(1)&gt;\\| ## owned, 4 cores" in md


def test_gate_lines_come_from_the_report_grammar() -> None:
    head, base = results(scale=1.2), results()
    rows = metric_rows(res.metrics(base), res.metrics(head), lower=res.directions(res.metrics(head))[0])
    gate = evaluate([parse_rule("int8.p50 > +10%", "fail"), parse_rule("int8.accuracy < 0.9", "warn")], rows)
    md = render.markdown(render.BenchReport(results=head, base=base, gate=gate))
    assert "❌ **Gate failed:** `int8.p50 > +10%` (Δ% 20)" in md
    assert "⚠️" not in md


def test_sections_put_the_data_block_first_and_the_plot_last() -> None:
    secs = render.sections(
        render.BenchReport(results=results(), image="01-latency.png", data_block="<!-- d -->")
    )
    assert secs[0].body.startswith("<!-- d -->\n## Mobile benchmark")
    assert secs[0].priority == 100
    assert [s.title for s in secs[1:]] == ["local · 1", "Latency plot"]
    assert secs[-1].body == "![Latency](01-latency.png)"
    assert secs[-1].priority < secs[1].priority


def test_section_for_the_training_report() -> None:
    md = render.section(results())
    assert md.startswith("### Mobile benchmark\n\nModel `model/model.keras`.")
    assert "#### local · 1 thread" in md
    assert "4.9 ms" in md


@pytest.mark.parametrize(("n", "text"), [(900, "900 B"), (3_900_000, "3.9 MB"), (512_300, "512 kB")])
def test_sizes(n: int, text: str) -> None:
    assert render.size(n) == text


def test_figure_has_head_and_base_series() -> None:
    fig = render.figure(results(), results(scale=2))
    assert fig.kind == "bar"
    assert [s.name for s in fig.series] == ["base", "head"]
    assert list(fig.series[1].x) == ["fp32", "dynamic", "fp16", "int8"]
    assert fig.series[0].y[3] == pytest.approx(9.8)
    many = render.figure(results(targets=(LOCAL, ADB), threads=(1, 4)), None)
    assert [s.name for s in many.series] == ["local · 1t", "local · 4t", "adb://R58M · 1t", "adb://R58M · 4t"]
    assert render.figure(Results(model="m"), None) is None


def test_latencies_under_a_millisecond_read_in_microseconds() -> None:
    from cml.bench.report import ms

    assert ms(0.001172) == "1.17 µs"
    assert ms(0.5) == "500 µs"
    assert ms(8.3) == "8.3 ms"
    assert ms(12_345.0) == "12,345 ms"
