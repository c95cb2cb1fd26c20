"""Which changed files are outputs (the commit's own data) and which are inputs (a workspace)."""

from __future__ import annotations

from pathlib import Path

from cml.report.outputs import inputs, of_dvc_yaml
from cml.report.sources import ConfusionSpec, PlotSpec, Sources

PIPELINE = """
metrics: [results/metrics.json]
params: [results/params.yaml, params.yaml]
plots:
  - acc:
      y: {logs/train.csv: acc, logs/val.csv: acc}
stages:
  prepare:
    cmd: python prepare.py
    deps: [data/raw.csv, prepare.py]
    outs: [data/prepared]
  train:
    wdir: training
    cmd: python train.py
    deps: [../data/prepared, train.py]
    params: [lr]
    outs: [{model.pkl: {cache: false}}, ../../outside.bin]
    metrics: [eval.json]
  sweep:
    foreach: [a, b]
    do:
      cmd: python sweep.py ${item}
      outs:
        - sweeps/${item}.json
        - ${item}
"""


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_dvc_yaml_outputs_relative_to_its_folder_and_wdir() -> None:
    import yaml

    found = of_dvc_yaml(yaml.safe_load(PIPELINE), "proj")
    assert found == [
        "proj/results/metrics.json",
        "proj/acc",
        "proj/logs/train.csv",
        "proj/logs/val.csv",
        "proj/data/prepared",
        "proj/training/model.pkl",
        "outside.bin",
        "proj/training/eval.json",
        "proj/sweeps/${item}.json",
        "proj/${item}",
    ]
    assert "../outside.bin" not in of_dvc_yaml(yaml.safe_load(PIPELINE), "")  # leaves the tree: dropped


def test_only_inputs_are_kept(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"dvc.yaml": PIPELINE, "sub/dvc.yaml": "metrics: [m.json]\n"})
    changed = [
        "results/metrics.json",  # top-level metrics
        "results/params.yaml",  # dvclive's log_params beside its metrics.json
        "params.yaml",  # a params file: input
        "logs/val.csv",  # a plot's y file
        "data/prepared/part-0.csv",  # inside a folder out
        "data/raw.csv",  # a dep: input
        "training/model.pkl",  # an out under wdir
        "training/train.py",  # code: input
        "sweeps/a.json",  # ${item}: one segment
        "sweeps/a/b.json",  # ... not two
        "anything.txt",  # "${item}" alone covers nothing
        "dvc.lock",
        "sub/.gitignore",
        "sub/m.json",
        "sub/params.yaml",  # beside no metrics.json output: input
        "exp/dvclive/plots/metrics/acc.tsv",  # inside a dvclive folder
        "dvclive.py",  # a file named dvclive is not the folder
        "flags/metrics.json",
        "flags/plot.csv",
        "flags/preds.csv",
    ]
    sources = Sources(
        metrics=("flags/metrics.json",),
        params=("flags/params.yaml",),
        plots=(PlotSpec(title="t", kind="line", series=(("flags/plot.csv", None, "y"),)),),
        confusions=(ConfusionSpec(path="flags/preds.csv", actual="a", predicted="p"),),
    )
    assert inputs(changed, root, sources) == (
        "params.yaml",
        "data/raw.csv",
        "training/train.py",
        "sweeps/a/b.json",
        "anything.txt",
        "sub/params.yaml",
        "dvclive.py",
    )


def test_params_beside_metrics_at_the_root_or_in_a_project_are_inputs(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"dvc.yaml": "metrics: [metrics.json]\nparams: [params.yaml]\n"})
    sources = Sources(metrics=("metrics.json", "sub/metrics.json"), params=("params.yaml",))
    _tree(tmp_path, {"sub/dvc.yaml": "stages: {}\n"})
    changed = ["params.yaml", "sub/params.yaml", "flagged/params.yaml"]
    assert inputs(changed, root, sources) == ("params.yaml", "sub/params.yaml", "flagged/params.yaml")
    with_flags = Sources(metrics=("flagged/metrics.json",))
    assert inputs(["flagged/params.yaml"], root, with_flags) == ()


def test_nothing_changed_reads_nothing(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").mkdir()  # would not read as a file
    assert inputs([], tmp_path, Sources()) == ()
    assert inputs(["x.py"], tmp_path, Sources()) == ("x.py",)  # an unreadable dvc.yaml names nothing
