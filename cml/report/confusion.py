"""Confusion matrix section: accuracy, per-class precision / recall / F1 / support with deltas vs base.

Pure: (actual, predicted) pairs in, markdown and heatmap :class:`~cml.report.plots.Figure` s (base
and head, shaded on one scale) out. Undefined ratios (no predictions of a class, no actual members)
count as 0, as scikit-learn does.
"""

from __future__ import annotations

import math
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


def section(
    head_pairs: Pairs,
    base_pairs: Pairs | None,
    *,
    title: str,
    figure: str = "confusion matrix",
    normalized: bool = False,
) -> tuple[str, list[Figure]]:
    """Markdown for one confusion matrix (accuracy; per-class precision / recall / F1 / support with
    deltas vs base, arrows up when better) and its heatmaps: base then head (head alone without a
    base), titled ``<figure> (base)`` / ``<figure> (head)``, shares of each actual class when
    ``normalized``.

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
    sides = [("base", base), ("head", head)] if base is not None else [("head", head)]
    top = max(_peak(s, normalized) for _, s in sides)
    figs = [heatmap(s, title=f"{figure} ({name})", normalized=normalized, top=top) for name, s in sides]
    return "\n\n".join(parts) + "\n", figs


def _scores_of(pairs: Pairs, title: str, side: str) -> Scores:
    if not pairs:
        raise InputError(f"{title}: {side} has no (actual, predicted) pairs")
    return scores(pairs)


def _base_score(base: Scores | None, label: str) -> ClassScore | None:
    return None if base is None else base.per_class.get(label)


def _table(headers: list[str], rows: list[list[str]]) -> str:
    from cml.report.tables import tabulate_md

    return tabulate_md(headers, rows, align=["left", *["right"] * (len(headers) - 1)])


def heatmap(scores: Scores, *, title: str, normalized: bool = False, top: float | None = None) -> Figure:
    """The confusion matrix as a heatmap Figure: rows actual, columns predicted; cells show counts
    (or, ``normalized``, each actual class's shares) and are shaded on a log scale up to ``top``
    (default: this matrix's largest value), so a lone error next to hundreds is tinted, not white."""
    values = _values(scores, normalized)
    top = top if top is not None else _peak(scores, normalized)
    return Figure(
        title=title,
        kind="heatmap",
        x_label="predicted",
        y_label="actual",
        series=[Series(name=title, x=list(scores.labels), y=[])],
        z=[[shade(v, top, normalized) for v in row] for row in values],
        text=[[_cell(v, normalized) for v in row] for row in values],
    )


def _values(scores: Scores, normalized: bool) -> list[list[float]]:
    """Counts, or each row's counts as shares of the row (DVC's ``confusion_normalized``)."""
    if not normalized:
        return [[float(v) for v in row] for row in scores.matrix]
    return [[v / total if (total := sum(row)) else 0.0 for v in row] for row in scores.matrix]


def _peak(scores: Scores, normalized: bool) -> float:
    return max((v for row in _values(scores, normalized) for v in row), default=0.0)


#: Shares are shaded as if out of this many samples: 1 in 1,000 still shows.
_SHARE_SCALE = 1000.0


def shade(value: float, top: float, normalized: bool = False) -> float:
    """A cell's colour from 0 (white: nothing) to 1 (``top``) on a log scale: one count next to
    500s is about 0.11, where a linear scale would give 0.002 and draw it as white as 0."""
    if value <= 0 or top <= 0:
        return 0.0
    k = _SHARE_SCALE if normalized else 1.0
    return min(1.0, math.log1p(k * value) / math.log1p(k * top))


def _cell(value: float, normalized: bool) -> str:
    """A count as is; a share to 3 significant digits, never rounded to 0 or 1 when it is not."""
    if not normalized or value in (0.0, 1.0):
        return f"{value:g}"
    text = f"{value:.3g}"
    if float(text) in (0.0, 1.0):
        return "<0.001" if value < 0.5 else ">0.999"
    return text
