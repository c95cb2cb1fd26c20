"""Regression gates: ``--fail-on`` / ``--warn-on`` expressions checked against metric rows.

Grammar: ``METRIC OP VALUE`` with OP one of ``< <= > >= == !=``.

* ``VALUE`` with an explicit sign (``-0.01``, ``+2``) compares the delta head - base;
* ``VALUE`` ending in ``%`` (``+5%``, ``5%``) compares the relative delta in percent of |base|;
* a plain ``VALUE`` (``0.9``) compares the head value itself.

``accuracy < -0.01`` trips when accuracy dropped by more than 0.01; ``loss > +5%`` when loss grew
by more than 5 %; ``accuracy < 0.9`` when accuracy is below 0.9. A delta rule on a metric without
a baseline value cannot be checked and is reported as skipped. Rules compare raw values and deltas in
the direction the rule itself states, so they need no metric direction: ``f2 < -0.01`` works on a
metric whose direction is unknown (uncoloured in the table). METRIC is a full metric name
(``file:name`` when several metrics files are read) or a bare name that is unique.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from cml.errors import UsageError
from cml.report.diff import MetricRow
from cml.report.readers import numeric

Severity = Literal["fail", "warn"]
Mode = Literal["absolute", "delta", "relative"]
Outcome = Literal["passed", "tripped", "skipped"]

_OPS: dict[str, Callable[[float, float], bool]] = {
    "<=": operator.le,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}
_EXPR = re.compile(
    r"^\s*(?P<metric>[^<>=!\s](?:[^<>=!]*[^<>=!\s])?)\s*(?P<op><=|>=|==|!=|<|>)\s*"
    r"(?P<value>(?P<sign>[+-])?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)(?P<pct>%)?\s*$"
)


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One parsed expression."""

    text: str
    severity: Severity
    metric: str
    op: str
    value: float
    mode: Mode


def parse_rule(text: str, severity: Severity) -> Rule:
    """Parse ``METRIC OP VALUE``; UsageError naming the expression when it does not parse."""
    match = _EXPR.match(text)
    if not match:
        flag = "--fail-on" if severity == "fail" else "--warn-on"
        raise UsageError(
            f"{flag} {text!r}: expected METRIC OP VALUE, e.g. 'accuracy < -0.01' (delta), "
            "'loss > +5%' (relative delta) or 'accuracy < 0.9' (absolute)"
        )
    mode: Mode = "relative" if match["pct"] else "delta" if match["sign"] else "absolute"
    return Rule(
        text=text.strip(),
        severity=severity,
        metric=match["metric"],
        op=match["op"],
        value=float(match["value"]),
        mode=mode,
    )


def bind(rule: Rule, rows: Sequence[MetricRow]) -> MetricRow:
    """The row ``rule`` names; UsageError naming the expression when none or several match."""
    exact = [r for r in rows if r.name == rule.metric]
    found = exact or [r for r in rows if r.name.rsplit(":", 1)[-1] == rule.metric]
    flag = "--fail-on" if rule.severity == "fail" else "--warn-on"
    if not found:
        known = ", ".join(r.name for r in rows[:10]) or "none"
        raise UsageError(f"{flag} {rule.text!r}: unknown metric {rule.metric!r} (metrics: {known})")
    if len(found) > 1:
        names = ", ".join(r.name for r in found)
        raise UsageError(f"{flag} {rule.text!r}: {rule.metric!r} is ambiguous ({names}); use file:name")
    return found[0]


@dataclass(frozen=True, kw_only=True)
class Check:
    """A rule checked against its row."""

    rule: Rule
    outcome: Outcome
    observed: float | None


def check(rule: Rule, row: MetricRow) -> Check:
    """Evaluate one rule; ``skipped`` when the value it compares is not available (or is text); a
    NaN or infinite head trips every rule on it (it counts as worse)."""
    head = numeric(row.head)
    if head is not None and not math.isfinite(head):
        return Check(rule=rule, outcome="tripped", observed=head)
    if rule.mode == "absolute":
        observed = head
    elif rule.mode == "delta":
        observed = row.delta
    else:
        rel = row.relative
        observed = None if rel is None else rel * 100
    if observed is None:
        return Check(rule=rule, outcome="skipped", observed=None)
    tripped = _OPS[rule.op](observed, rule.value)
    return Check(rule=rule, outcome="tripped" if tripped else "passed", observed=observed)


@dataclass(frozen=True, kw_only=True)
class GateResult:
    """Every check, and the conclusion a check run would carry."""

    checks: tuple[Check, ...]

    @property
    def failed(self) -> tuple[Check, ...]:
        """Tripped ``--fail-on`` rules."""
        return tuple(c for c in self.checks if c.outcome == "tripped" and c.rule.severity == "fail")

    @property
    def warned(self) -> tuple[Check, ...]:
        """Tripped ``--warn-on`` rules."""
        return tuple(c for c in self.checks if c.outcome == "tripped" and c.rule.severity == "warn")

    @property
    def conclusion(self) -> Literal["success", "failure", "neutral"]:
        """failure when a fail rule tripped, neutral when only warnings did, else success."""
        return "failure" if self.failed else "neutral" if self.warned else "success"


def evaluate(rules: Sequence[Rule], rows: Sequence[MetricRow]) -> GateResult:
    """Bind and check every rule (binding errors surface before anything is written)."""
    return GateResult(checks=tuple(check(rule, bind(rule, rows)) for rule in rules))
