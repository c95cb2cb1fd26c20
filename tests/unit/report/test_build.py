"""The report's wording and its shortened sections, as golden markdown (``UPDATE_GOLDEN=1``)."""

from __future__ import annotations

from collections.abc import Callable

from cml.report.budget import assemble, join
from cml.report.build import TOP_ROWS, ReportData, header, sections
from cml.report.diff import metric_rows, param_rows

HEAD = "a" * 40
BASE = "b" * 40


def test_a_baseline_that_is_the_head_commit_is_said_plainly() -> None:
    rows = metric_rows(None, {"acc": 0.9})
    same = header(ReportData(title="R", head_sha=HEAD, metrics=rows, base_is_head=True))
    assert "No baseline: the base is this commit (`aaaaaaa`), so there is nothing to compare with." in same
    assert "Comparing" not in same
    dirty = header(
        ReportData(
            title="R", head_sha=HEAD, metrics=rows, base_origin="`aaaaaaa`, --base HEAD", base_is_head=True
        )
    )
    assert "Comparing the work tree with its own commit `aaaaaaa`, --base HEAD." in dirty
    assert "Comparing `aaaaaaa` with `aaaaaaa`" not in dirty
    other = header(ReportData(title="R", head_sha=HEAD, metrics=rows, base_origin="`bbbbbbb`, --base main"))
    assert "Comparing `aaaaaaa` with `bbbbbbb`, --base main." in other


def _big() -> ReportData:
    """40 changed metrics (metric i moves by i %) and 30 changed params."""
    base = {f"m{i:02d}": 100.0 for i in range(40)}
    head = {f"m{i:02d}": 100.0 + i for i in range(40)}
    params = param_rows({f"p{i:02d}": i for i in range(30)}, {f"p{i:02d}": i + 1 for i in range(30)})
    return ReportData(
        title="Big",
        head_sha=HEAD,
        base_sha=BASE,
        base_origin="`bbbbbbb`, --base main",
        metrics=metric_rows(base, head),
        params=params,
        has_base_metrics=True,
        has_base_params=True,
    )


def test_over_the_limit_sections_keep_their_largest_changes(golden: Callable[[str, str], None]) -> None:
    secs = sections(_big())
    full = join(secs)
    text, dropped = assemble(secs, 1_300, "the report artifact")
    assert len(full) > 1_300 >= len(text)
    assert dropped == []
    metric_lines = [line for line in text.splitlines() if line.startswith("| m") and "metric" not in line]
    # The 10 largest |Δ%| first: m39 (+39 %) down to m30.
    assert [line.split("|")[1].strip() for line in metric_lines] == [f"m{i}" for i in range(39, 29, -1)]
    assert "The 10 largest changes (by |Δ%|) of 39 rows:" in text
    assert "> 29 more rows left out to fit the size limit (see the report artifact)." in text
    assert "> 20 more rows left out to fit the size limit (see the report artifact)." in text
    assert len([line for line in text.splitlines() if line.startswith(("| p0", "| p1", "| p2"))]) == TOP_ROWS
    golden("report_shortened", text)
    # Just over the limit: only the lowest-priority section (Params) is shortened.
    text, _ = assemble(secs, len(full) - 100, "the report artifact")
    assert "| m01 " in text
    assert "| p29 " not in text


def test_short_tables_have_no_short_form() -> None:
    data = _big()
    small = ReportData(title="S", head_sha=HEAD, metrics=data.metrics[:TOP_ROWS], has_base_metrics=True)
    assert all(not s.short for s in sections(small))


def test_shortened_sections_still_go_when_that_is_not_enough() -> None:
    secs = sections(_big())
    text, dropped = assemble(secs, 1_200, "the report artifact")
    assert dropped == ["Params"]
    assert "| m39 " in text
    assert "> Dropped to fit the size limit: Params (see the report artifact)." in text
    assert len(text) <= 1_200
