"""Confusion matrix math against hand-computed values and a brute-force recomputation."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cml.errors import InputError
from cml.report import confusion
from cml.report.confusion import fmt_delta, scores, section, sort_labels

# 19 samples. Actual cat: 8 right, 2 called dog. Actual dog: 5 right, 1 called cat. Bird: 3 right.
HEAD = (
    [("cat", "cat")] * 8
    + [("cat", "dog")] * 2
    + [("dog", "dog")] * 5
    + [("dog", "cat")]
    + [("bird", "bird")] * 3
)
# 17 samples. Cat: 7 right, 3 called dog. Dog: 6 right. Fish: 1 right.
BASE = [("cat", "cat")] * 7 + [("cat", "dog")] * 3 + [("dog", "dog")] * 6 + [("fish", "fish")]


def test_hand_computed_scores() -> None:
    s = scores(HEAD)
    assert s.labels == ("bird", "cat", "dog")
    assert s.matrix == ((3, 0, 0), (0, 8, 2), (0, 1, 5))
    assert s.accuracy == pytest.approx(16 / 19)
    cat = s.per_class["cat"]
    assert (cat.precision, cat.recall, cat.support) == (pytest.approx(8 / 9), pytest.approx(8 / 10), 10)
    assert cat.f1 == pytest.approx(2 * (8 / 9) * 0.8 / (8 / 9 + 0.8))
    dog = s.per_class["dog"]
    assert (dog.precision, dog.recall, dog.support) == (pytest.approx(5 / 7), pytest.approx(5 / 6), 6)
    assert s.macro.precision == pytest.approx((1 + 8 / 9 + 5 / 7) / 3)
    assert s.macro.recall == pytest.approx((1 + 0.8 + 5 / 6) / 3)
    assert s.macro.support == 19


def test_undefined_ratios_count_as_zero() -> None:
    # "b" is predicted but never actual (recall undefined), "c" is actual but never predicted.
    s = scores([("a", "b"), ("c", "a"), ("a", "a")])
    assert s.per_class["b"].recall == 0.0
    assert s.per_class["b"].precision == 0.0
    assert s.per_class["c"].precision == 0.0
    assert s.per_class["c"].f1 == 0.0
    assert s.per_class["a"].precision == pytest.approx(0.5)


def test_numeric_labels_sort_by_value_then_text() -> None:
    assert sort_labels({"10", "2", "cat", "1.5", "ant"}) == ("1.5", "2", "10", "ant", "cat")


def test_pairs_given_as_lists_are_accepted() -> None:
    assert scores([["a", "a"], ["a", "b"]]).matrix == ((1, 1), (0, 0))  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("delta", "text"),
    [(0.05, "↑ +0.05"), (-0.123456, "↓ -0.1235"), (0.0, "="), (1e-15, "="), (None, "new")],
)
def test_delta_arrows(delta: float | None, text: str) -> None:
    assert fmt_delta(delta) == text


def _table_row(markdown: str, name: str) -> list[str]:
    line = next(line for line in markdown.splitlines() if line.startswith(f"| {name} "))
    return [cell.strip() for cell in line.strip("|").split("|")]


def test_section_with_base_shows_deltas() -> None:
    markdown, figs = section(HEAD, BASE, title="Classifier")
    assert markdown.startswith("### Classifier\n")
    assert "Accuracy **0.8421** (base 0.8235, ↑ +0.01858) over 19 samples." in markdown
    header = _table_row(markdown, "class")
    assert header == ["class", "precision", "Δ", "recall", "Δ", "F1", "Δ", "support"]
    # cat: precision 8/9 vs base 7/7, recall 0.8 vs 0.7, F1 0.8421 vs 0.8235.
    assert _table_row(markdown, "cat") == [
        "cat", "0.8889", "↓ -0.1111", "0.8", "↑ +0.1", "0.8421", "↑ +0.01858", "10",
    ]  # fmt: skip
    assert _table_row(markdown, "bird")[1:3] == ["1", "new"]
    assert _table_row(markdown, "macro avg")[-1] == "19 (+2)"
    assert "Classes only in base: fish." in markdown
    assert [f.title for f in figs] == ["confusion matrix (base)", "confusion matrix (head)"]
    base, head = figs
    assert head.kind == "heatmap"
    assert list(head.series[0].x) == ["bird", "cat", "dog"]
    assert head.text == [["3", "0", "0"], ["0", "8", "2"], ["0", "1", "5"]]
    assert list(base.series[0].x) == ["cat", "dog", "fish"]
    assert base.text == [["7", "3", "0"], ["0", "6", "0"], ["0", "0", "1"]]
    # One scale for both: the largest count of either (head's 8) is the darkest.
    assert head.z is not None
    assert base.z is not None
    assert head.z[1][1] == 1.0
    assert base.z[0][0] == pytest.approx(confusion.shade(7, 8))


def test_one_error_next_to_hundreds_is_tinted_not_white() -> None:
    # 500 right per class and a single mistake: on a linear scale it is 1/500 of the darkest colour.
    pairs = [("a", "a")] * 500 + [("b", "b")] * 500 + [("a", "b")]
    (fig,) = section(pairs, None, title="t")[1]
    assert fig.z is not None
    assert fig.text is not None
    assert fig.text[0] == ["500", "1"]
    zero, one = fig.z[1][0], fig.z[0][1]
    assert zero == 0.0
    assert one > 0.1  # a clearly tinted cell (the renderer draws anything above 0 at least light blue)
    assert fig.z[0][0] == 1.0


def test_normalized_is_shares_of_each_actual_class() -> None:
    pairs = [("a", "a")] * 999 + [("a", "b")] + [("b", "b")] * 3 + [("b", "a")]
    (fig,) = section(pairs, None, title="t", figure="Confusion (normalized)", normalized=True)[1]
    assert fig.title == "Confusion (normalized) (head)"
    assert fig.text == [["0.999", "0.001"], ["0.25", "0.75"]]
    assert fig.z is not None
    assert fig.z[0][1] > 0.1
    assert max(max(row) for row in fig.z) <= 1.0


def test_section_without_base_has_no_delta_columns() -> None:
    markdown, _ = section(HEAD, None, title="Head only")
    assert _table_row(markdown, "class") == ["class", "precision", "recall", "F1", "support"]
    assert _table_row(markdown, "dog") == ["dog", "0.7143", "0.8333", "0.7692", "6"]
    assert "base" not in markdown


def test_empty_pairs_name_the_section() -> None:
    with pytest.raises(InputError, match=r"Classifier: base has no"):
        section(HEAD, [], title="Classifier")
    with pytest.raises(InputError, match=r"Classifier: head has no"):
        section([], BASE, title="Classifier")


def _brute(pairs: list[tuple[str, str]], label: str) -> tuple[float, float, float, int]:
    """Precision, recall, F1 and support of ``label`` recounted pair by pair."""
    tp = sum(1 for a, p in pairs if a == label and p == label)
    fp = sum(1 for a, p in pairs if a != label and p == label)
    fn = sum(1 for a, p in pairs if a == label and p != label)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return precision, recall, f1, tp + fn


labels = st.sampled_from(["a", "b", "c", "7", "10"])
pair_lists = st.lists(st.tuples(labels, labels), min_size=1, max_size=60)


@given(pair_lists)
def test_matches_brute_force(pairs: list[tuple[str, str]]) -> None:
    s = scores(pairs)
    assert set(s.labels) == {x for pair in pairs for x in pair}
    assert sum(map(sum, s.matrix)) == len(pairs)
    assert s.accuracy == pytest.approx(sum(a == p for a, p in pairs) / len(pairs))
    for label in s.labels:
        got = s.per_class[label]
        assert (got.precision, got.recall, got.f1, got.support) == pytest.approx(_brute(pairs, label))
    assert s.macro.f1 == pytest.approx(sum(_brute(pairs, x)[2] for x in s.labels) / len(s.labels))


@given(pair_lists, pair_lists)
def test_deltas_are_head_minus_base(head: list[tuple[str, str]], base: list[tuple[str, str]]) -> None:
    markdown, _ = section(head, base, title="t")
    h, b = scores(head), scores(base)
    for label in h.labels:
        row = _table_row(markdown, label)
        want = (
            fmt_delta(h.per_class[label].recall - b.per_class[label].recall)
            if label in b.per_class
            else "new"
        )
        assert row[4] == want
        assert row[3] == confusion.fmt(h.per_class[label].recall)
