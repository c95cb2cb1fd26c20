"""The benchmark as markdown and a latency figure: pure rendering, results in, text and figure specs out.

One table per target and thread count::

    variant | size | Δsize | p50 | p90 | p99 | vs fp32 | accuracy (Δ) | notes

Δsize and the p50 change are against the base branch's run (when one is known); ``vs fp32`` is the
speed-up of the variant's median over fp32's; ``accuracy (Δ)`` is the accuracy on ``--eval`` labels and
its change from the original model, or without labels the top-1 agreement with the original and the
largest |Δ| of an output. Each table names what ran it (CPU, cores, architecture, runtime), and says
"host, not a device" for ``local`` and "mean only" where only averages exist (adb's benchmark_model).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cml.bench import Latency, Results, TargetInfo, VariantResult
from cml.report import tables
from cml.report.budget import REQUIRED, Section, join
from cml.report.build import gate_lines
from cml.report.gate import GateResult

TITLE = "Mobile benchmark"
HEADERS = ("variant", "size", "Δsize", "p50", "p90", "p99", "vs fp32", "accuracy (Δ)", "notes")
#: A coefficient of variation above this gets a "noisy" note.
NOISY_CV = 0.10
#: Priorities for the size budget: the tables go after the header, the plot first.
TABLE_PRIORITY, PLOT_PRIORITY = 90, 20


@dataclass(frozen=True, kw_only=True)
class BenchReport:
    """Everything the benchmark comment shows, already measured, compared and rendered to files."""

    title: str = TITLE
    results: Results
    base: Results | None = None
    base_origin: str = ""  # "`abc1234`, the merge-base with main (stored benchmark)", "base.json"
    gate: GateResult | None = None
    image: str = ""  # the latency plot, relative to the report
    notes: Sequence[str] = ()
    data_block: str = ""


def cell(text: str) -> str:
    """``text`` safe in a table cell: no pipes, newlines or HTML (device names come from the device)."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def size(n: int) -> str:
    """Bytes as ``13.9 MB`` / ``512 kB`` / ``900 B`` (decimal units, as the wheel and file sizes)."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.3g} MB"
    if n >= 1_000:
        return f"{n / 1_000:.3g} kB"
    return f"{n} B"


def ms(value: float) -> str:
    """A latency given in milliseconds, three significant digits: ``3.46 ms``, ``1.17 µs`` under 1 ms."""
    if value < 1:
        return f"{value * 1000:.3g} µs"
    return f"{value:.3g} ms" if value < 1000 else f"{value:,.0f} ms"


def percent(head: float, base: float | None) -> str:
    """The relative change from ``base`` as ``+2.1%``; ``—`` without a base (or a zero one)."""
    if not base:
        return "—"
    pct = (head - base) / abs(base) * 100
    return "0%" if round(pct, 1) == 0 else f"{pct:+.3g}%"


def target_line(info: TargetInfo, mean_only: bool) -> str:
    """``local``: CPU, cores, architecture, runtime — and what kind of numbers they are."""
    parts = [info.cpu, f"{info.cores} cores" if info.cores else "", info.arch, info.runtime]
    what = [p for p in parts if p]
    kind = [] if info.device else ["**host, not a device**"]
    kind += ["**mean only** (no percentiles)"] if mean_only else []
    return " — ".join([f"`{cell(info.name)}`: " + (cell(", ".join(what)) or "unknown machine"), *kind])


def _latency(v: VariantResult | None, target: str, threads: int) -> Latency | None:
    return None if v is None else v.latency.get(target, {}).get(threads)


def _speedup(lat: Latency | None, fp32: Latency | None) -> str:
    if lat is None or fp32 is None or not lat.median:
        return "—"
    return f"{fp32.median / lat.median:.2f}×"  # noqa: RUF001


def _accuracy(v: VariantResult) -> str:
    acc = v.accuracy
    if acc is None:
        return "—"
    if acc.accuracy is not None:
        change = None if acc.drop is None else round(-acc.drop, 4)
        drop = "" if change is None else " (±0)" if change == 0 else f" ({tables.signed(change)})"
        return f"{tables.number(round(acc.accuracy, 4))}{drop}"
    parts = []
    if acc.agreement is not None:
        parts.append(f"agree {acc.agreement * 100:.3g}%")
    if acc.max_abs_diff is not None:
        parts.append(f"max\\|Δ\\| {acc.max_abs_diff:.3g}")
    return ", ".join(parts) or "—"


def _notes(v: VariantResult, lat: Latency | None, base: VariantResult | None, has_base: bool) -> str:
    notes = [*([v.error] if v.error else []), *v.notes]
    if lat is not None and not lat.mean_only and lat.cv > NOISY_CV:
        notes.append(f"noisy: cv {lat.cv * 100:.0f}%")
    if has_base and base is None:
        notes.append("new")
    return "; ".join(cell(n) for n in notes)


def row(v: VariantResult, target: str, threads: int, fp32: Latency | None, base: VariantResult | None,
        has_base: bool) -> list[str]:  # fmt: skip
    """One table row: variant ``v`` on ``target`` at ``threads``."""
    lat, before = _latency(v, target, threads), _latency(base, target, threads)
    size_cells = [size(v.size_bytes), percent(v.size_bytes, base.size_bytes if base else None)]
    if not v.size_bytes:
        size_cells = ["—", "—"]
    if lat is None:
        times = ["—", "—", "—"]
    elif lat.mean_only:
        times = [f"{ms(lat.median)} (mean)", "—", "—"]
    else:
        times = [ms(lat.median), ms(lat.p90), ms(lat.p99)]
    if lat is not None and before is not None:
        times[0] += f" ({percent(lat.median, before.median)})"
    notes = _notes(v, lat, base, has_base)
    return [v.variant, *size_cells, *times, _speedup(lat, fp32), _accuracy(v), notes]


def table(results: Results, target: TargetInfo, threads: int, base: Results | None) -> str:
    """The markdown table of every variant on ``target`` at ``threads``."""
    by_name = {v.variant: v for v in (base.variants if base else ())}
    fp32 = next((v for v in results.variants if v.variant == "fp32"), None)
    fp32_lat = _latency(fp32, target.name, threads)
    rows = [
        row(v, target.name, threads, fp32_lat, by_name.get(v.variant), base is not None)
        for v in results.variants
    ]
    return tables.tabulate_md(HEADERS, rows)


def tables_by_target(results: Results, base: Results | None, level: int = 3) -> list[Section]:
    """One section per target and thread count: heading, target line, table."""
    out = []
    for info in results.targets or (TargetInfo(name="local", device=False),):
        for n in results.method.threads:
            mean_only = any(getattr(_latency(v, info.name, n), "mean_only", False) for v in results.variants)
            heading = f"{'#' * level} {cell(info.name)} · {n} thread{'s' if n != 1 else ''}"
            body = "\n\n".join([heading, target_line(info, mean_only), table(results, info, n, base)])
            out.append(Section(title=f"{info.name} · {n}", body=body, priority=TABLE_PRIORITY))
    return out


def method_line(results: Results) -> str:
    """How the numbers were taken, in one sentence."""
    m = results.method
    threads = ", ".join(map(str, m.threads))
    return (
        f"Median of at least {m.runs} runs and {m.min_secs:g} s per variant, {m.repeats} repeat(s) with "
        f"variants interleaved in shuffled order, after {m.warmup} warm-up runs and {m.warmup_secs:g} s; "
        f"threads: {threads}. `vs fp32` is fp32's median over the variant's (above 1× is faster)."  # noqa: RUF001
    )


def header(report: BenchReport) -> str:
    """Title, what was measured, what it is compared with, notes and the gate."""
    r = report.results
    at = f" at `{r.commit[:7]}`" if r.commit else ""
    lines = [f"## {cell(report.title)}", "", f"Model `{cell(r.model)}`{at}. {method_line(r)}"]
    if report.base is not None:
        lines.append(f"Compared with {report.base_origin or 'the base'}.")
    else:
        lines.append("No base benchmark found: Δ columns are empty.")
    lines += [f"> {cell(note)}" for note in report.notes]
    gate = gate_lines(report.gate)
    return "\n".join([*lines, *([""] if gate else []), *gate])


def sections(report: BenchReport) -> list[Section]:
    """The benchmark comment as prioritised sections: header (with the data block), tables, plot."""
    head = f"{report.data_block}\n{header(report)}".lstrip("\n")
    out = [Section(title="Header", body=head, priority=REQUIRED)]
    out += tables_by_target(report.results, report.base)
    if report.image:
        plot = f"![Latency]({report.image})"
        out.append(Section(title="Latency plot", body=plot, priority=PLOT_PRIORITY))
    return out


def markdown(report: BenchReport) -> str:
    """The whole report as one markdown text."""
    return join(sections(report))


def section(results: Results, title: str = TITLE) -> str:
    """The benchmark as one section of another report (``cml report --bench``): heading, tables."""
    parts = [f"### {cell(title)}", f"Model `{cell(results.model)}`. {method_line(results)}"]
    parts += [s.body for s in tables_by_target(results, None, level=4)]
    return "\n\n".join(parts)


def figure(results: Results, base: Results | None) -> Any:
    """The latency plot: median per variant, one bar series per target and thread count, the base's
    before each (``... (base)``). A ``cml.report.plots.Figure``; None when nothing was timed."""
    from cml.report.figures import plots_module

    plots = plots_module()
    series = []
    many = len(results.targets) * len(results.method.threads) > 1
    for info in results.targets:
        for n in results.method.threads:
            label = f"{info.name} · {n}t" if many else "head"
            for name, source in ((f"{label} (base)" if many else "base", base), (label, results)):
                points = [(v.variant, _latency(v, info.name, n)) for v in (source.variants if source else ())]
                kept = [(x, lat.median) for x, lat in points if lat is not None]
                if kept:
                    series.append(plots.Series(name=name, x=[x for x, _ in kept], y=[y for _, y in kept]))
    if not series:
        return None
    if max(y for s in series for y in s.y) < 1:  # a tiny model: µs reads better than 0.00117 ms
        series = [plots.Series(name=s.name, x=s.x, y=[y * 1000 for y in s.y]) for s in series]
        return plots.Figure(
            title="Latency (median)", kind="bar", x_label="variant", y_label="µs", series=series
        )
    return plots.Figure(title="Latency (median)", kind="bar", x_label="variant", y_label="ms", series=series)
