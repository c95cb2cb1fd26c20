from __future__ import annotations

import pytest

from cml.errors import UsageError
from cml.report.diff import metric_rows
from cml.report.gate import evaluate, parse_rule

ROWS = metric_rows(
    {"accuracy": 0.90, "loss": 0.20, "a.json:f1": 0.5, "b.json:f1": 0.6, "zero": 0.0},
    {"accuracy": 0.88, "loss": 0.22, "a.json:f1": 0.5, "b.json:f1": 0.7, "zero": 1.0, "fresh": 1.0},
)


@pytest.mark.parametrize(
    ("text", "mode", "value", "op"),
    [
        ("accuracy < -0.01", "delta", -0.01, "<"),
        ("loss > +5%", "relative", 5.0, ">"),
        ("loss >= 5%", "relative", 5.0, ">="),
        ("accuracy<0.9", "absolute", 0.9, "<"),
        ("eval metrics.json:top 1 != 1e-3", "absolute", 0.001, "!="),
    ],
)
def test_grammar(text: str, mode: str, value: float, op: str) -> None:
    rule = parse_rule(text, "fail")
    assert (rule.mode, rule.value, rule.op) == (mode, value, op)


@pytest.mark.parametrize(
    "text", ["accuracy", "accuracy < high", "< 0.1", "accuracy => 0.1", "accuracy < 0.1 %%"]
)
def test_bad_grammar_names_the_expression(text: str) -> None:
    with pytest.raises(UsageError) as err:
        parse_rule(text, "fail")
    assert str(err.value).startswith(f"--fail-on {text!r}: expected METRIC OP VALUE")


def _outcomes(*texts: str) -> list[str]:
    result = evaluate([parse_rule(t, "fail") for t in texts], ROWS)
    return [c.outcome for c in result.checks]


def test_delta_relative_and_absolute() -> None:
    assert _outcomes("accuracy < -0.01", "accuracy < -0.03") == ["tripped", "passed"]
    assert _outcomes("loss > +5%", "loss > +15%") == ["tripped", "passed"]
    assert _outcomes("accuracy < 0.9", "accuracy < 0.8") == ["tripped", "passed"]


def test_missing_base_or_zero_base_skips_delta_rules() -> None:
    assert _outcomes("fresh < -0.1", "fresh < 2", "zero > +10%", "zero > +0.5") == [
        "skipped",
        "tripped",
        "skipped",
        "tripped",
    ]


def test_conclusion() -> None:
    fail, warn = parse_rule("accuracy < -0.01", "fail"), parse_rule("loss > +5%", "warn")
    assert evaluate([fail, warn], ROWS).conclusion == "failure"
    assert evaluate([warn], ROWS).conclusion == "neutral"
    assert evaluate([], ROWS).conclusion == "success"
    assert [c.rule.text for c in evaluate([fail, warn], ROWS).warned] == ["loss > +5%"]


def test_file_qualified_and_ambiguous_names() -> None:
    assert _outcomes("b.json:f1 > +0.05") == ["tripped"]
    with pytest.raises(
        UsageError, match=r"--fail-on 'f1 > \+0.05': 'f1' is ambiguous \(a.json:f1, b.json:f1\)"
    ):
        _outcomes("f1 > +0.05")


def test_unknown_metric_names_the_expression() -> None:
    with pytest.raises(UsageError) as err:
        evaluate([parse_rule("acuracy < -0.01", "warn")], ROWS)
    assert str(err.value).startswith(
        "--warn-on 'acuracy < -0.01': unknown metric 'acuracy' (metrics: accuracy,"
    )
