"""Compare two snapshots: metric deltas that know which direction is better, changed params."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from cml.report.direction import Direction, direction
from cml.report.readers import Scalar

Verdict = Literal["better", "worse", "changed", "same", "new", "gone", "n/a"]


@dataclass(frozen=True, kw_only=True)
class MetricRow:
    """One metric at base and head."""

    name: str
    base: float | None
    head: float | None
    direction: Direction | None  #: None: unknown, so a change is "changed", neither better nor worse

    @property
    def delta(self) -> float | None:
        """head - base, when both exist."""
        return None if self.base is None or self.head is None else self.head - self.base

    @property
    def relative(self) -> float | None:
        """The delta as a fraction of |base|; None when base is 0 or missing."""
        delta = self.delta
        return None if delta is None or not self.base else delta / abs(self.base)

    @property
    def verdict(self) -> Verdict:
        """Whether head improved on base, in this metric's direction ("changed" when it has none)."""
        if self.base is None:
            return "new" if self.head is not None else "n/a"
        if self.head is None:
            return "gone"
        delta = self.head - self.base
        if delta == 0:
            return "same"
        if self.direction is None:
            return "changed"
        return "better" if (delta > 0) == (self.direction == "higher") else "worse"


def metric_rows(
    base: Mapping[str, float] | None,
    head: Mapping[str, float],
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
