"""Images found and relinked; reports cut to a budget at section boundaries."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cml.markdown import fit, local_images, relink_images

REPORT = """# Report
![roc](plots/roc.png "ROC")
<img src="cm.png" width="400">
![remote](https://example.com/x.png) ![up](/uploads/abc/x.png) ![data](data:image/png;base64,xx)
"""


def test_local_images_only_local_ones() -> None:
    assert local_images(REPORT) == ["plots/roc.png", "cm.png"]


def test_relink_keeps_titles_and_attributes() -> None:
    out = relink_images(REPORT, {"plots/roc.png": "https://h/r.png", "cm.png": "/uploads/1/cm.png"})
    assert '![roc](https://h/r.png "ROC")' in out
    assert '<img src="/uploads/1/cm.png" width="400">' in out
    assert "https://example.com/x.png" in out


def _note(n: int) -> str:
    return f"(cut {n})"


def test_fit_leaves_short_reports_alone() -> None:
    assert fit("# a\nb\n", 100, _note) == ("# a\nb\n", False)


def test_fit_cuts_at_a_section_and_closes_fences() -> None:
    text = "# A\nintro\n## B\n```\ncode\n" + "x\n" * 50 + "```\n## C\n" + "y\n" * 50
    out, cut = fit(text, 60, _note)
    assert cut
    assert len(out) <= 60
    assert out.startswith("# A\nintro")
    assert out.rstrip().endswith("(cut " + str(len(text) - len("# A\nintro\n")) + ")")


def test_fit_closes_open_details() -> None:
    text = "# A\n<details><summary>s</summary>\n\n" + "row\n" * 40 + "</details>\n"
    out, cut = fit(text, 80, _note)
    assert cut
    assert out.count("<details>") == out.count("</details>")
    assert len(out) <= 80


@given(st.text(alphabet="#`~<>/details x\n", max_size=400), st.integers(min_value=30, max_value=300))
def test_fit_never_exceeds_the_limit(text: str, limit: int) -> None:
    out, cut = fit(text, limit, _note)
    assert len(out) <= limit
    assert cut == (len(text) > limit)
