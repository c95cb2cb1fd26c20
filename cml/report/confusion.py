"""Confusion matrix section: accuracy, per-class precision / recall / F1 / support with deltas vs base.

Pure: (actual, predicted) pairs in, markdown and a heatmap :class:`~cml.report.plots.Figure` out.
Undefined ratios (no predictions of a class, no actual members) count as 0, as scikit-learn does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from cml.errors import InputError
from cml.report.plots import Figure, Series

Pairs = Sequence[tuple[str, str]]
_EPS = 1e-12


@dataclass(frozen=True, kw_only=True)
class ClassScore:
    """Precision, recall, F1 and support (number of actual members) of one class."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True, kw_only=True)
class Scores:
    """Everything computed from one set of pairs."""

    labels: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]  # matrix[actual][predicted]
    per_class: dict[str, ClassScore]
    macro: ClassScore
    accuracy: float


def _label_key(label: str) -> tuple[int, float, str]:
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)


def sort_labels(labels: set[str]) -> tuple[str, ...]:
    """Labels in order: numeric ones by value first, then the rest alphabetically."""
    return tuple(sorted(labels, key=_label_key))


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def _score(tp: int, predicted: int, actual: int) -> ClassScore:
    precision, recall = _ratio(tp, predicted), _ratio(tp, actual)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return ClassScore(precision=precision, recall=recall, f1=f1, support=actual)


def scores(pairs: Pairs) -> Scores:
    """Confusion matrix and scores of ``pairs``; raises InputError when there are none."""
    if not pairs:
        raise InputError("no (actual, predicted) pairs to score")
    labels = sort_labels({label for pair in pairs for label in pair})
    counts = Counter((actual, predicted) for actual, predicted in pairs)
    matrix = tuple(tuple(counts[(a, p)] for p in labels) for a in labels)
    per_class = {
        label: _score(
            tp=matrix[i][i],
            predicted=sum(row[i] for row in matrix),
            actual=sum(matrix[i]),
        )
        for i, label in enumerate(labels)
    }
    n = len(per_class)
    macro = ClassScore(
        precision=sum(s.precision for s in per_class.values()) / n,
        recall=sum(s.recall for s in per_class.values()) / n,
        f1=sum(s.f1 for s in per_class.values()) / n,
        support=len(pairs),
    )
    accuracy = sum(matrix[i][i] for i in range(n)) / len(pairs)
    return Scores(labels=labels, matrix=matrix, per_class=per_class, macro=macro, accuracy=accuracy)


def fmt(value: float) -> str:
    """A number to 4 significant digits (``0.8571``, ``1``)."""
    return f"{value:.4g}"


def fmt_delta(delta: float | None) -> str:
    """``↑ +0.05`` when better, ``↓ -0.1`` when worse, ``=`` when equal, ``new`` when base lacks it."""
    if delta is None:
        return "new"
    if abs(delta) < _EPS:
        return "="
    return f"{'↑' if delta > 0 else '↓'} {delta:+.4g}"


_METRICS = ("precision", "recall", "f1")


def _row(name: str, head: ClassScore, base: ClassScore | None, with_base: bool) -> list[str]:
    row = [name]
    for metric in _METRICS:
        value = getattr(head, metric)
        row.append(fmt(value))
        if with_base:
            row.append(fmt_delta(None if base is None else value - getattr(base, metric)))
    support = str(head.support)
    if base is not None and base.support != head.support:
        support += f" ({head.support - base.support:+d})"
    return [*row, support]


def _accuracy_line(head: Scores, base: Scores | None, total: int) -> str:
    line = f"Accuracy **{fmt(head.accuracy)}**"
    if base is not None:
        line += f" (base {fmt(base.accuracy)}, {fmt_delta(head.accuracy - base.accuracy)})"
    return f"{line} over {total} samples."


def section(head_pairs: Pairs, base_pairs: Pairs | None, *, title: str) -> tuple[str, Figure]:
    """Markdown for one confusion matrix (accuracy; per-class precision / recall / F1 / support with
    deltas vs base, arrows up when better) and the heatmap Figure of head's counts.

    Raises InputError naming ``title`` when head (or a given base) has no pairs.
    """
    head = _scores_of(head_pairs, title, "head")
    base = _scores_of(base_pairs, title, "base") if base_pairs is not None else None
    with_base = base is not None
    headers = ["class"]
    for metric in ("precision", "recall", "F1"):
        headers += [metric, "Δ"] if with_base else [metric]
    headers.append("support")
    rows = [_row(label, head.per_class[label], _base_score(base, label), with_base) for label in head.labels]
    rows.append(_row("macro avg", head.macro, base.macro if base else None, with_base))
    parts = [f"### {title}", _accuracy_line(head, base, len(head_pairs)), _table(headers, rows)]
    if base is not None and (gone := [label for label in base.labels if label not in head.per_class]):
        parts.append(f"Classes only in base: {', '.join(gone)}.")
    return "\n\n".join(parts) + "\n", heatmap(head, title=f"{title}: confusion matrix (head)")


def _scores_of(pairs: Pairs, title: str, side: str) -> Scores:
    if not pairs:
        raise InputError(f"{title}: {side} has no (actual, predicted) pairs")
    return scores(pairs)


def _base_score(base: Scores | None, label: str) -> ClassScore | None:
    return None if base is None else base.per_class.get(label)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    from cml.report.tables import tabulate_md

    return tabulate_md(headers, rows, align=["left", *["right"] * (len(headers) - 1)])


def heatmap(scores: Scores, *, title: str) -> Figure:
    """The confusion matrix as a heatmap Figure: rows actual, columns predicted, cells counts."""
    return Figure(
        title=title,
        kind="heatmap",
        x_label="Predicted",
        y_label="Actual",
        series=[Series(name="head", x=list(scores.labels), y=[])],
        z=[list(row) for row in scores.matrix],
    )
