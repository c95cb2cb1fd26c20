"""Assemble the report's markdown from computed parts: pure data in, sections out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cml.report import tables
from cml.report.budget import REQUIRED, Section
from cml.report.diff import MetricRow, ParamRow
from cml.report.gate import Check, GateResult


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """Everything a report shows, already read, compared and rendered to files."""

    title: str
    head_sha: str
    head_label: str = ""  # "`abc1234`", "workspace (uncommitted, on `abc1234`)"; "": the sha
    base_sha: str | None = None
    base_origin: str | None = None  # "git abc1234", "stored report on abc1234"; None: no baseline
    metrics: Sequence[MetricRow] = ()
    params: Sequence[ParamRow] = ()
    has_base_metrics: bool = False
    has_base_params: bool = False
    show_all: bool = False
    gate: GateResult | None = None
    images: Sequence[tuple[str, str]] = ()  # (title, path relative to the report)
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
    if data.base_origin:
        lines.append(f"Comparing {head} with {data.base_origin}.")
    elif not data.metrics and not data.params:
        lines.pop()
    else:
        lines.append(f"No baseline found for {head}: showing head values only.")
    lines += [f"> {note}" for note in data.notes]
    gate = gate_lines(data.gate)
    return "\n".join([*lines, *([""] if gate else []), *gate])


def sections(data: ReportData) -> list[Section]:
    """The report as prioritised sections, in display order."""
    prio = data.priorities
    out = [Section(title="Header", body=f"{data.data_block}\n{header(data)}".lstrip("\n"), priority=REQUIRED)]
    if data.metrics:
        table = tables.metrics_table(data.metrics, show_all=data.show_all, has_base=data.has_base_metrics)
        body = table or "No metric changed (use `--all` to list them)."
        out.append(Section(title="Metrics", body=f"### Metrics\n\n{body}", priority=prio["Metrics"]))
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
            out.append(Section(title="Params", body=f"### Params\n\n{table}", priority=prio["Params"]))
    if data.bench:
        # The section brings its own heading.
        out.append(Section(title="Mobile benchmark", body=data.bench, priority=prio["Bench"]))
    for title, markdown in data.extra:
        # The section brings its own heading.
        out.append(Section(title=title, body=markdown.rstrip("\n"), priority=prio["Confusion"]))
    if data.images:
        body = "\n\n".join(f"![{title}]({path})" for title, path in data.images)
        out.append(Section(title="Plots", body=f"### Plots\n\n{body}", priority=prio["Plots"]))
    return out
