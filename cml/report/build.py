"""Assemble the report's markdown from computed parts: pure data in, sections out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cml.report import tables
from cml.report.budget import REQUIRED, Section
from cml.report.diff import MetricRow, ParamRow
from cml.report.gate import Check, GateResult

#: Rows a shortened Metrics or Params section keeps when the size limit drops the rest.
TOP_ROWS = 10


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """Everything a report shows, already read, compared and rendered to files."""

    title: str
    head_sha: str
    head_label: str = ""  # "`abc1234`", "workspace (uncommitted, on `abc1234`)"; "": the sha
    base_sha: str | None = None
    base_origin: str | None = None  # "git abc1234", "stored report on abc1234"; None: no baseline
    base_is_head: bool = False  # the baseline commit is the head commit itself
    metrics: Sequence[MetricRow] = ()
    params: Sequence[ParamRow] = ()
    has_base_metrics: bool = False
    has_base_params: bool = False
    show_all: bool = False
    gate: GateResult | None = None
    images: Sequence[tuple[str, str]] = ()  # (title, path relative to the report)
    plot_notes: Sequence[str] = ()  # plots dvc.yaml defines that could not be drawn, one line each
    extra: Sequence[tuple[str, str]] = ()  # (title, markdown): confusion sections
    experiments: str = ""
    bench: str = ""  # `cml report --bench`: the benchmark section (cml.bench.report.section)
    notes: Sequence[str] = ()
    data_block: str = ""
    priorities: dict[str, int] = field(
        default_factory=lambda: {
            "Metrics": 90,
            "Experiments": 70,
            "Params": 60,
            "Bench": 50,
            "Confusion": 40,
            "Plots": 20,
        }
    )


def _check_line(c: Check) -> str:
    observed = "n/a" if c.observed is None else tables.cell(c.observed)
    unit = {"absolute": "value", "delta": "Δ", "relative": "Δ%"}[c.rule.mode]
    return f"`{c.rule.text}` ({unit} {observed})"


def gate_lines(gate: GateResult | None) -> list[str]:
    """The header lines saying what the gate decided."""
    if gate is None or not gate.checks:
        return []
    lines = []
    if gate.failed:
        lines.append("❌ **Gate failed:** " + ", ".join(_check_line(c) for c in gate.failed))
    if gate.warned:
        lines.append("⚠️ **Warning:** " + ", ".join(_check_line(c) for c in gate.warned))
    skipped = [c for c in gate.checks if c.outcome == "skipped"]
    if skipped:
        lines.append("⏭️ Not checked (no baseline value): " + ", ".join(f"`{c.rule.text}`" for c in skipped))
    if not gate.failed and not gate.warned:
        passed = sum(c.outcome == "passed" for c in gate.checks)
        lines.append(f"✅ **Gate passed** ({passed} of {len(gate.checks)} checks)")
    return lines


def header(data: ReportData) -> str:
    """Title, gate result and what the baseline was."""
    lines = [f"## {data.title}", ""]
    head = data.head_label or f"`{data.head_sha[:7]}`"
    if data.base_origin and data.base_is_head:
        own = data.head_label if data.head_label.startswith("workspace") else "the work tree"
        lines.append(f"Comparing {own} with its own commit {data.base_origin}.")
    elif data.base_origin:
        lines.append(f"Comparing {head} with {data.base_origin}.")
    elif not data.metrics and not data.params:
        lines.pop()
    elif data.base_is_head:
        lines.append(f"No baseline: the base is this commit ({head}), so there is nothing to compare with.")
    else:
        lines.append(f"No baseline found for {head}: showing head values only.")
    lines += [f"> {note}" for note in data.notes]
    gate = gate_lines(data.gate)
    return "\n".join([*lines, *([""] if gate else []), *gate])


def _rank(row: MetricRow) -> tuple[int, float]:
    """Sort key putting the largest |Δ%| first, then changes without one (new, gone, from 0, text)."""
    if row.relative is not None:
        return (0, -abs(row.relative))
    return (1, -abs(row.delta or 0.0))


def _top_metrics(data: ReportData) -> tuple[str, int]:
    """The Metrics section cut to its :data:`TOP_ROWS` largest changes (its first rows without a
    baseline) and how many rows that leaves out; ("", 0) when the full table is no longer."""
    if not data.has_base_metrics:
        shown = [r for r in data.metrics if r.head is not None]
        top, what = shown[:TOP_ROWS], f"The first {TOP_ROWS} of {len(shown)} metrics:"
    else:
        shown = [r for r in data.metrics if data.show_all or r.verdict != "same"]
        top = sorted((r for r in shown if r.verdict != "same"), key=_rank)[:TOP_ROWS] or shown[:TOP_ROWS]
        what = f"The {len(top)} largest changes (by |Δ%|) of {len(shown)} rows:"
    if len(shown) <= TOP_ROWS:
        return "", 0
    table = tables.metrics_table(top, show_all=data.show_all, has_base=data.has_base_metrics)
    return f"### Metrics\n\n{what}\n\n{table}", len(shown) - len(top)


def _top_params(data: ReportData) -> tuple[str, int]:
    """The Params section cut to its first :data:`TOP_ROWS` changed keys (first keys without a
    baseline) and how many rows that leaves out; ("", 0) when the full table is no longer."""
    shown = [r for r in data.params if data.show_all or r.change != "same" or not data.has_base_params]
    if len(shown) <= TOP_ROWS:
        return "", 0
    top = [r for r in shown if r.change != "same" or not data.has_base_params][:TOP_ROWS]
    table = tables.params_table(top, show_all=False, has_base=data.has_base_params)
    what = f"The first {len(top)} {'changes' if data.has_base_params else 'params'} of {len(shown)} rows:"
    return f"### Params\n\n{what}\n\n{table}", len(shown) - len(top)


def sections(data: ReportData) -> list[Section]:
    """The report as prioritised sections, in display order."""
    prio = data.priorities
    out = [Section(title="Header", body=f"{data.data_block}\n{header(data)}".lstrip("\n"), priority=REQUIRED)]
    if data.metrics:
        table = tables.metrics_table(data.metrics, show_all=data.show_all, has_base=data.has_base_metrics)
        body = table or "No metric changed (use `--all` to list them)."
        short, left_out = _top_metrics(data)
        out.append(
            Section(
                title="Metrics",
                body=f"### Metrics\n\n{body}",
                priority=prio["Metrics"],
                short=short,
                left_out=left_out,
            )
        )
    if data.experiments:
        out.append(
            Section(
                title="Experiments",
                body=f"### Experiments\n\n{data.experiments}",
                priority=prio["Experiments"],
            )
        )
    if data.params:
        table = tables.params_table(data.params, show_all=data.show_all, has_base=data.has_base_params)
        if table:
            short, left_out = _top_params(data)
            out.append(
                Section(
                    title="Params",
                    body=f"### Params\n\n{table}",
                    priority=prio["Params"],
                    short=short,
                    left_out=left_out,
                )
            )
    if data.bench:
        # The section brings its own heading.
        out.append(Section(title="Mobile benchmark", body=data.bench, priority=prio["Bench"]))
    for title, markdown in data.extra:
        # The section brings its own heading.
        out.append(Section(title=title, body=markdown.rstrip("\n"), priority=prio["Confusion"]))
    if data.images or data.plot_notes:
        parts = ["\n".join(f"> {note}" for note in data.plot_notes)] if data.plot_notes else []
        parts += [f"![{title}]({path})" for title, path in data.images]
        body = "\n\n".join(parts)
        out.append(Section(title="Plots", body=f"### Plots\n\n{body}", priority=prio["Plots"]))
    return out
