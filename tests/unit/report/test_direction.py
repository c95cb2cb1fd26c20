"""Metric directions: the documented token lists, unknown names uncoloured, and the overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml.errors import InputError, UsageError
from cml.report import direction as d
from cml.report.diff import metric_rows
from cml.report.experiments import Run, ranked
from cml.report.gate import evaluate, parse_rule
from cml.report.tables import metrics_table


@pytest.mark.parametrize(
    ("name", "want"),
    [
        ("val_loss", "lower"),
        ("train/loss", "lower"),
        ("eval.mae", "lower"),
        ("valLoss", "lower"),
        ("metrics.json:test-rmsle", "lower"),
        ("p95 latency_ms", "lower"),
        ("epoch_duration", "lower"),
        ("peak_memory", "lower"),
        ("WER", "lower"),
        ("val_acc", "higher"),
        ("roc_auc", "higher"),
        ("mAP50", "higher"),
        ("rouge1", "higher"),
        ("eval/F1", "higher"),
        ("r2", "higher"),
        ("mean_iou", "higher"),
        ("bleu", "higher"),
        ("f2", None),
        ("score", None),
        ("lossless_ratio", None),  # a token, not a substring: "loss" inside a word is not a loss
        ("timestamp", None),
        ("time_to_accuracy", None),  # both kinds: not guessed
        ("loss.json:acc", "higher"),  # the file part is not part of the name
    ],
)
def test_known_names(name: str, want: str | None) -> None:
    assert d.direction(name) == want


def test_tokens_split_on_separators_and_case() -> None:
    assert d.tokens("a.json:Train/valLoss-top_1.x y") == ["train", "val", "loss", "top", "1", "x", "y"]


def test_unknown_metric_is_uncoloured() -> None:
    rows = metric_rows({"f2": 0.5, "accuracy": 0.5}, {"f2": 0.6, "accuracy": 0.4})
    assert [(r.name, r.direction, r.verdict) for r in rows] == [
        ("f2", None, "changed"),
        ("accuracy", "higher", "worse"),
    ]
    table = metrics_table(rows, show_all=False, has_base=True)
    f2 = next(line for line in table.splitlines() if line.startswith("| f2"))
    assert "↑ +0.1" in f2
    assert "🟢" not in f2
    assert "🔴" not in f2
    assert "🔴" in next(line for line in table.splitlines() if line.startswith("| accuracy"))


def test_override_colours_an_unknown_metric() -> None:
    (row,) = metric_rows({"f2": 0.5}, {"f2": 0.6}, lower=frozenset({"f2"}))
    assert (row.direction, row.verdict) == ("lower", "worse")


def test_signed_gate_rule_needs_no_direction() -> None:
    rows = metric_rows({"f2": 0.5}, {"f2": 0.3})
    result = evaluate([parse_rule("f2 < -0.1", "fail")], rows)
    assert [c.outcome for c in result.checks] == ["tripped"]


def test_ranking_by_an_unknown_metric_needs_its_direction() -> None:
    runs = [Run(name="a", params={}, metrics={"f2": 0.1}), Run(name="b", params={}, metrics={"f2": 0.2})]
    with pytest.raises(UsageError) as exc:
        ranked(runs, "f2", frozenset(), frozenset())
    assert "--lower-is-better f2" in str(exc.value)
    assert "\n" not in str(exc.value)
    assert [r.name for r in ranked(runs, "f2", frozenset(), frozenset({"f2"}))] == ["b", "a"]


def test_pyproject_overrides(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.cml]\nlower-is-better = ["f2"]\nhigher-is-better = ["loss"]\n'
    )
    project = d.from_pyproject(tmp_path)
    assert project == d.Overrides(lower=frozenset({"f2"}), higher=frozenset({"loss"}))
    merged = d.merge(d.from_flags(["loss"], []), project)
    assert (
        d.direction("loss", merged.lower, merged.higher),
        d.direction("f2", merged.lower, merged.higher),
    ) == (
        "lower",
        "lower",
    )


def test_no_pyproject_or_no_table(tmp_path: Path) -> None:
    assert d.from_pyproject(tmp_path) == d.Overrides()
    (tmp_path / "pyproject.toml").write_text("[tool.ruff]\nline-length = 100\n")
    assert d.from_pyproject(tmp_path) == d.Overrides()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[tool.cml]\nlower-is-better = 'loss'\n",
            "pyproject.toml: [tool.cml] lower-is-better must be a list",
        ),
        (
            "[tool.cml]\nhigher-is-better = [1]\n",
            "pyproject.toml: [tool.cml] higher-is-better must be a list",
        ),
        ("[tool.cml\n", "pyproject.toml: not valid TOML"),
        ("[tool]\ncml = 3\n", "pyproject.toml: [tool.cml] must be a table"),
        (
            "[tool.cml]\nlower-is-better = ['a']\nhigher-is-better = ['a']\n",
            "pyproject.toml: [tool.cml] names 'a' both",
        ),
    ],
)
def test_bad_pyproject_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(InputError) as exc:
        d.from_pyproject(tmp_path)
    assert str(exc.value).startswith(message)
    assert "\n" not in str(exc.value)


def test_flags_naming_a_metric_both_ways() -> None:
    with pytest.raises(UsageError, match="both name 'loss'"):
        d.from_flags(["loss"], ["loss"])
