"""Compare two snapshots: metric deltas that know which direction is better, changed params."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cml.report.direction import Direction, direction
from cml.report.readers import Metric, Scalar, numeric

Verdict = Literal["better", "worse", "changed", "same", "new", "gone", "n/a"]


@dataclass(frozen=True, kw_only=True)
class MetricRow:
    """One metric at base and head."""

    name: str
    base: Metric | None
    head: Metric | None
    direction: Direction | None  #: None: unknown, so a change is "changed", neither better nor worse

    @property
    def delta(self) -> float | None:
        """head - base, when both are finite numbers."""
        base, head = numeric(self.base), numeric(self.head)
        if base is None or head is None or not (math.isfinite(base) and math.isfinite(head)):
            return None
        return head - base

    @property
    def relative(self) -> float | None:
        """The delta as a fraction of |base|; None when base is 0 or missing."""
        delta, base = self.delta, numeric(self.base)
        return None if delta is None or not base else delta / abs(base)

    @property
    def verdict(self) -> Verdict:
        """Whether head improved on base, in this metric's direction ("changed" when it has none);
        text values are only ``same`` or ``changed``; a NaN or infinite head after a finite base is
        ``worse``."""
        if self.base is None:
            return "new" if self.head is not None else "n/a"
        if self.head is None:
            return "gone"
        base, head = numeric(self.base), numeric(self.head)
        if base is None or head is None:
            return "same" if type(self.base) is type(self.head) and self.base == self.head else "changed"
        if not (math.isfinite(base) and math.isfinite(head)):
            if str(base) == str(head):
                return "same"
            return "worse" if math.isfinite(base) else "better" if math.isfinite(head) else "changed"
        delta = head - base
        if delta == 0:
            return "same"
        if self.direction is None:
            return "changed"
        return "better" if (delta > 0) == (self.direction == "higher") else "worse"


def metric_rows(
    base: Mapping[str, Metric] | None,
    head: Mapping[str, Metric],
    *,
    lower: frozenset[str] = frozenset(),
    higher: frozenset[str] = frozenset(),
) -> list[MetricRow]:
    """A row per metric in head (then those only in base), in file order."""
    names = list(head) + [n for n in (base or {}) if n not in head]
    return [
        MetricRow(
            name=n,
            base=None if base is None else base.get(n),
            head=head.get(n),
            direction=direction(n, lower, higher),
        )
        for n in names
    ]


ParamChange = Literal["changed", "added", "removed", "same"]


@dataclass(frozen=True, kw_only=True)
class ParamRow:
    """One param at base and head."""

    name: str
    base: Scalar
    head: Scalar
    change: ParamChange


_MISSING = object()


def param_rows(base: Mapping[str, Scalar], head: Mapping[str, Scalar]) -> list[ParamRow]:
    """A row per param key in either snapshot, marked changed / added / removed / same."""
    rows = []
    for name in list(head) + [n for n in base if n not in head]:
        old, new = base.get(name, _MISSING), head.get(name, _MISSING)
        if old is _MISSING:
            change: ParamChange = "added"
        elif new is _MISSING:
            change = "removed"
        else:
            change = "same" if _same(old, new) else "changed"
        rows.append(
            ParamRow(
                name=name,
                base=None if old is _MISSING else old,  # type: ignore[arg-type]
                head=None if new is _MISSING else new,  # type: ignore[arg-type]
                change=change,
            )
        )
    return rows


def _same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b
