"""Markdown tables (GitHub style) for metric deltas and param changes; pure text out."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence

from cml.report.diff import MetricRow, ParamRow
from cml.report.readers import Metric, Scalar

#: Tables longer than this are folded into ``<details>``.
FOLD_ROWS = 15

_MARK = {"better": "🟢", "worse": "🔴", "changed": "", "same": "", "new": "🆕", "gone": "gone", "n/a": ""}

#: Significant digits shown by default, and enough to tell any two doubles apart.
DIGITS, MAX_DIGITS = 5, 17


def number(value: float | None, digits: int = DIGITS) -> str:
    """``digits`` significant digits; integers without a decimal point; ``—`` for missing;
    ``NaN`` / ``inf`` / ``-inf`` as such. A non-zero value never prints as ``0``; at
    :data:`MAX_DIGITS` the shortest text that reads back as exactly this float."""
    if value is None:
        return "—"
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.{digits}g}" if digits < MAX_DIGITS else repr(value)  # repr: shortest exact form


def numbers(values: Sequence[float | None]) -> list[str]:
    """Each value as :func:`number`, all with the fewest digits (at least :data:`DIGITS`) at which
    values that differ print differently: 0.91234 and 0.912341 become ``0.91234`` and ``0.912341``."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    texts: list[str] = []
    for digits in range(DIGITS, MAX_DIGITS + 1):
        texts = [number(v, digits) for v in values]
        if len({number(v, digits) for v in finite}) == len(set(finite)):
            break
    return texts


def cell(value: Metric | None) -> str:
    """A metric value: numbers by :func:`number`, ``NaN`` / ``inf`` / ``-inf`` as such, text as it is."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "inf" if value > 0 else "-inf"
    if isinstance(value, bool | str):
        return _text(str(value).lower() if isinstance(value, bool) else value)
    return number(value)


def cells(values: Sequence[Metric | None]) -> list[str]:
    """Metric values side by side: finite numbers widened together (:func:`numbers`), text, booleans,
    NaN and infinities each as :func:`cell` shows them."""
    if all(
        v is None or (isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v))
        for v in values
    ):
        return numbers([None if v is None else float(v) for v in values])
    return [cell(v) for v in values]


def _text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def signed(value: float) -> str:
    """A delta with its sign always shown (``+0`` only for zero)."""
    text = number(value)
    return text if text.startswith("-") else f"+{text}"


def _arrow(row: MetricRow) -> str:
    delta = row.delta
    if delta is None:  # text, booleans, NaN/inf, or one side missing
        return "changed" if row.verdict == "changed" else _MARK[row.verdict] or "—"
    if delta == 0:
        return "0"
    arrow = "↑" if delta > 0 else "↓"
    return f"{arrow} {signed(delta)} {_MARK[row.verdict]}".rstrip()


def _percent(row: MetricRow) -> str:
    rel = row.relative
    if rel is None:
        return "—"
    pct = rel * 100
    # |delta| >= one ulp of base, so pct is never 0 (nor printed as 0) for a non-zero delta
    return "0%" if pct == 0 else f"{'+' if pct > 0 else ''}{pct:.3g}%"


def tabulate_md(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: Sequence[str] | None = None
) -> str:
    """A GitHub markdown table of strings, padded by display width (wcwidth: an emoji is two columns)."""
    from tabulate import tabulate

    return tabulate(
        rows,
        headers=list(headers),
        tablefmt="github",
        disable_numparse=True,
        colalign=None if align is None else list(align),
    )


def fold(table: str, rows: int, summary: str) -> str:
    """Wrap ``table`` in ``<details>`` when it has more than :data:`FOLD_ROWS` rows."""
    if rows <= FOLD_ROWS:
        return table
    return f"<details><summary>{summary}</summary>\n\n{table}\n\n</details>"


def metrics_table(rows: Sequence[MetricRow], *, show_all: bool, has_base: bool) -> str:
    """``metric | base | head | Δ | Δ%``; unchanged rows dropped unless ``show_all``.

    Without a baseline the table is ``metric | head``. Returns "" when no row is left.
    """
    if not has_base:
        body = [[r.name, cell(r.head)] for r in rows if r.head is not None]
        return fold(tabulate_md(["metric", "head"], body), len(body), f"{len(body)} metrics") if body else ""
    kept = [r for r in rows if show_all or r.verdict != "same"]
    body = [[r.name, *cells([r.base, r.head]), _arrow(r), _percent(r)] for r in kept]
    if not body:
        return ""
    table = tabulate_md(["metric", "base", "head", "Δ", "Δ%"], body)
    return fold(table, len(body), f"{len(body)} metrics")


def value(v: Scalar) -> str:
    """A param value as text: numbers like metrics, strings as they are, null as ``null``."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int | float) and math.isfinite(v):
        return number(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, float):
        return cell(v)
    if isinstance(v, list):
        return _text("[" + ", ".join(_item(i) for i in v) + "]")
    if isinstance(v, dict):  # a mapping inside a list param's element, or a reader that kept one whole
        return _text(_item(v))
    return _text(str(v))


def _item(v: object) -> str:
    """One element of a list param, as YAML/JSON would write it."""
    try:
        return json.dumps(v, ensure_ascii=False, default=str)
    except ValueError:
        return str(v)


def params_table(rows: Sequence[ParamRow], *, show_all: bool, has_base: bool) -> str:
    """``param | base → head``: changed keys only unless ``show_all``; added/removed marked."""
    if not has_base:
        body = [[r.name, value(r.head)] for r in rows]
        return fold(tabulate_md(["param", "head"], body), len(body), f"{len(body)} params") if body else ""
    body = []
    for r in rows:
        if r.change == "same" and not show_all:
            continue
        text = {
            "changed": "{} → {}".format(*_changed(r.base, r.head)),
            "added": f"{value(r.head)} (added)",
            "removed": f"{value(r.base)} (removed)",
            "same": value(r.head),
        }[r.change]
        body.append([r.name, text])
    if not body:
        return ""
    return fold(tabulate_md(["param", "base → head"], body), len(body), f"{len(body)} params")


def _changed(base: Scalar, head: Scalar) -> list[str]:
    """A changed param's two values; two floats widened like metrics so they never print the same."""
    if isinstance(base, float) and isinstance(head, float) and math.isfinite(base) and math.isfinite(head):
        return numbers([base, head])
    return [value(base), value(head)]
