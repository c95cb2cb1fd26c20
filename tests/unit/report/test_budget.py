from __future__ import annotations

from cml import comment
from cml.report.budget import REQUIRED, Section, assemble, join

SECTIONS = [
    Section(title="Header", body="## Report\n\nhead", priority=REQUIRED),
    Section(title="Metrics", body="### Metrics\n\n" + "m" * 100, priority=90),
    Section(title="Params", body="### Params\n\n" + "p" * 100, priority=60),
    Section(title="Plots", body="### Plots\n\n" + "x" * 300, priority=20),
]


def test_fits_untouched() -> None:
    text, dropped = assemble(SECTIONS, 10_000, "the job summary")
    assert dropped == []
    assert text == join(SECTIONS)


def test_lowest_priority_goes_first_with_a_note() -> None:
    text, dropped = assemble(SECTIONS, 400, "the job summary")
    assert dropped == ["Plots"]
    assert "x" * 300 not in text
    assert "p" * 100 in text
    assert text.endswith("> Dropped to fit the size limit: Plots (see the job summary).\n")
    assert len(text) <= 400


def test_several_dropped_in_report_order() -> None:
    text, dropped = assemble(SECTIONS, 250, "the output folder")
    assert dropped == ["Params", "Plots"]
    assert "m" * 100 in text
    assert "Params, Plots (see the output folder)" in text


def test_required_sections_are_never_dropped_and_compose_still_cuts() -> None:
    text, dropped = assemble(SECTIONS, 10, "x")
    assert dropped == ["Metrics", "Params", "Plots"]
    assert text.startswith("## Report")
    body, cut = comment.compose(text, title="t", nonce="0" * 12, limit=60)
    assert cut
    assert len(body) <= 60
