from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cml.errors import InputError, UsageError
from cml.report.dvcyaml import from_dvc_yaml
from cml.report.sources import ConfusionSpec, PlotSpec, discover, from_flags, parse_plot

DVC_YAML = """
metrics:
  - eval/metrics.json
plots:
  - Accuracy:
      x: epoch
      y:
        train.csv: acc
        test.csv: [acc, f1]
  - cm.csv:
      template: confusion
      x: actual
      y: predicted
stages:
  train:
    cmd: python train.py
    params:
      - lr
      - conf/model.yaml:
          - depth
    metrics:
      - train/metrics.json:
          cache: false
      - eval/metrics.json
    plots:
      - loss.tsv:
          x: step
          y: loss
          template: smooth
      - bars.json:
          template: bar_horizontal
          x: count
          y: label
"""


def test_dvc_yaml_top_level_and_stages() -> None:
    src = from_dvc_yaml(DVC_YAML, "dvc.yaml")
    assert src.metrics == ("eval/metrics.json", "train/metrics.json")
    assert src.params == ("params.yaml", "conf/model.yaml")
    assert src.plots == (
        PlotSpec(
            title="Accuracy",
            kind="line",
            series=(("train.csv", "epoch", "acc"), ("test.csv", "epoch", "acc"), ("test.csv", "epoch", "f1")),
        ),
        # No title in dvc.yaml: "" (the figure names itself from its columns, not the file).
        PlotSpec(title="", kind="line", series=(("loss.tsv", "step", "loss"),)),
        PlotSpec(title="", kind="bar", series=(("bars.json", "count", "label"),)),
    )
    assert src.confusions == (ConfusionSpec(path="cm.csv", actual="actual", predicted="predicted"),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("plots:\n  - a.csv:\n      template: pie\n", "dvc.yaml: plots: a.csv: unknown template 'pie'"),
        ("metrics: eval.json\n", "dvc.yaml: metrics: expected a list"),
        ("stages: [1]\n", "dvc.yaml: stages: expected a mapping"),
        (
            "stages:\n  s:\n    params:\n      - [1]\n",
            "dvc.yaml: stages.s.params: expected a key or {file: [keys]}",
        ),
    ],
)
def test_dvc_yaml_problems_are_notes(text: str, message: str) -> None:
    notes = from_dvc_yaml(text, "dvc.yaml").notes
    assert len(notes) == 1
    assert notes[0].startswith(message)


def test_dvc_yaml_not_a_mapping_is_an_error() -> None:
    with pytest.raises(InputError, match=r"^dvc\.yaml: expected a mapping at the top"):
        from_dvc_yaml("- 1\n", "dvc.yaml")


def test_plot_flag() -> None:
    assert parse_plot("log.csv:epoch:acc,loss:scatter") == PlotSpec(
        title="",
        kind="scatter",
        series=(("log.csv", "epoch", "acc"), ("log.csv", "epoch", "loss")),
    )
    assert parse_plot("log.csv::acc").series == (("log.csv", None, "acc"),)
    assert parse_plot("p.csv:y_true:y_pred:confusion") == ConfusionSpec(
        path="p.csv", actual="y_true", predicted="y_pred"
    )
    for bad in ("log.csv", "log.csv:x", "log.csv:x:y:pie", ":x:y"):
        with pytest.raises(UsageError, match="FILE:X:Y"):
            parse_plot(bad)


def _dvclive(root: Path) -> None:
    live = root / "dvclive"
    (live / "plots" / "metrics" / "train").mkdir(parents=True)
    (live / "metrics.json").write_text('{"acc": 0.9}')
    (live / "params.yaml").write_text("lr: 0.1\n")
    (live / "plots" / "metrics" / "train" / "loss.tsv").write_text("timestamp\tstep\tloss\n1\t0\t0.5\n")


def test_dvclive_folder_is_discovered_and_expands_from_flags(tmp_path: Path) -> None:
    _dvclive(tmp_path)
    src = discover(tmp_path)
    assert src.metrics == ("dvclive/metrics.json",)
    assert src.params == ("dvclive/params.yaml",)
    assert src.plots == (
        PlotSpec(
            title="",
            kind="line",
            series=(("dvclive/plots/metrics/train/loss.tsv", "step", "loss"),),
            y_label="train/loss",
        ),
    )
    flags = from_flags(["dvclive"], [], [], [], tmp_path)
    assert flags.metrics == ("dvclive/metrics.json",)
    assert flags.params == ()
    assert len(flags.plots) == 1


def test_discover_prefers_dvc_yaml_and_is_empty_without_sources(tmp_path: Path) -> None:
    assert discover(tmp_path).empty
    (tmp_path / "dvc.yaml").write_text("metrics: [m.json]\n")
    (tmp_path / "m.json").write_text("{}")
    assert discover(tmp_path).metrics == ("m.json",)


def test_a_plain_folder_is_not_dvclive(tmp_path: Path) -> None:
    (tmp_path / "stuff").mkdir()
    with pytest.raises(InputError, match="not a dvclive output folder"):
        from_flags(["stuff"], [], [], [], tmp_path)


_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=8), st.sampled_from(["linear", "x", "y"])
)
_DATA = st.recursive(
    _LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(["metrics", "params", "plots", "stages", "x", "y", "template", "a.csv"])
            | st.text(max_size=5),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(data=_DATA)
def test_fuzz_dvc_yaml_raises_only_input_errors(data: object) -> None:
    text = yaml.safe_dump(data)
    try:
        from_dvc_yaml(text, "dvc.yaml")
    except InputError as exc:
        assert str(exc).startswith("dvc.yaml")  # noqa: PT017


def test_dvc_yaml_titles_axis_labels_and_normalized_confusion() -> None:
    src = from_dvc_yaml(
        "plots:\n"
        "- roc.json:\n    x: fpr\n    y: tpr\n    title: ROC of the test set\n"
        "    x_label: False Positive Rate\n    y_label: True Positive Rate\n"
        "- cm.json:\n    template: confusion_normalized\n    x: actual\n    y: predicted\n    title: Errors\n",
        "dvc.yaml",
    )
    (roc,) = src.plots
    assert (roc.title, roc.x_label, roc.y_label) == (
        "ROC of the test set",
        "False Positive Rate",
        "True Positive Rate",
    )
    assert src.confusions == (
        ConfusionSpec(
            path="cm.json", actual="actual", predicted="predicted", title="Errors", normalized=True
        ),
    )
