"""DVC's show/collect results as cml's values, on results shaped as DVC 3.67 returns them (the
integration tests in tests/integration/report/test_report_dvc.py read real projects with DVC)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from cml.errors import ConfigError, UsageError
from cml.report import dvcrepo, dvcresults, dvcyaml

# repo.metrics.show(revs=[...], on_error="return")["<rev>"]: per file data or error
METRICS = {
    "data": {
        "dvclive/metrics.json": {"data": {"train": {"loss": 0.5}, "acc": 0.9, "status": "ok", "step": 2}},
        "eval/bad.json": {
            "error": ValueError("unable to read: 'eval/bad.json', JSON file structure is corrupted")
        },
    }
}


def test_files_splits_data_and_errors() -> None:
    read = dvcresults.files(METRICS)
    assert list(read.data) == ["dvclive/metrics.json"]
    assert list(read.errors) == ["eval/bad.json"]
    assert read.paths == ["dvclive/metrics.json", "eval/bad.json"]
    assert dvcresults.keyed(read)  # two files named: names carry their file
    assert not dvcresults.keyed(dvcresults.files({"data": {"m.json": {"data": {}}}}))


def test_a_revision_dvc_could_not_read_is_failed_not_empty() -> None:
    exc = RuntimeError("'./dvc.yaml' validation failed")
    read = dvcresults.files({"error": exc})
    assert read.failed is exc
    assert (read.data, read.errors) == ({}, {})
    assert dvcresults.files(None).paths == []  # no DVC project in that commit


def test_metrics_flatten_like_the_builtin_reader() -> None:
    read = dvcresults.files(METRICS)
    assert dvcresults.metrics(read, by_file=False) == {
        "train.loss": 0.5,
        "acc": 0.9,
        "status": "ok",
        "step": 2.0,
    }
    keyed = dvcresults.metrics(read, by_file=True)
    assert list(keyed) == [f"dvclive/metrics.json:{k}" for k in ("train.loss", "acc", "status", "step")]
    huge = dvcresults.metrics(
        dvcresults.files({"data": {"m.json": {"data": {"n": 10**400, "x": None}}}}), by_file=False
    )
    assert huge == {"n": math.inf}


def test_params_keep_lists_and_types() -> None:
    read = dvcresults.files(
        {"data": {"params.yaml": {"data": {"layers": [64, 32], "opt": {"lr": 0.1, "on": True}}}}}
    )
    assert dvcresults.params(read, by_file=False) == {"layers": [64, 32], "opt.lr": 0.1, "opt.on": True}


def test_plot_records_read_numbers_in_tables_and_note_bad_data() -> None:
    collected = {
        "sources": {
            "data": {
                "plots/loss.tsv": {
                    "data": [{"step": "0", "loss": "0.5"}, {"step": "1", "loss": "nan"}],
                    "props": {},
                },
                "plots/roc.json": {"data": {"roc": [{"fpr": 0, "tpr": 1}]}, "props": {}},
                "plots/bad.json": {"data": {"a": 1}, "props": {}},
                "plots/missing.csv": {"error": FileNotFoundError(2, "No such file")},
            }
        }
    }
    read = dvcresults.plot_sources(collected)
    got, notes = dvcresults.plot_records(
        read, ["plots/loss.tsv", "plots/roc.json", "plots/bad.json"], "at abc1234"
    )
    assert got["plots/loss.tsv"][0] == {"step": 0, "loss": 0.5}
    assert math.isnan(got["plots/loss.tsv"][1]["loss"])
    assert got["plots/roc.json"] == [{"fpr": 0, "tpr": 1}]
    assert notes == [
        "plots/bad.json: expected a list of records or one key holding a list of records (at abc1234); not drawn"
    ]
    assert dvcresults.reason(read.errors["plots/missing.csv"]) == "no such file"


def test_definitions_and_their_error() -> None:
    collected = {
        "definitions": {"data": {"dvc.yaml": {"data": {"loss": {"x": "step", "y": {"a.tsv": "loss"}}}}}}
    }
    assert dvcresults.definitions(collected) == (
        {"dvc.yaml": {"loss": {"x": "step", "y": {"a.tsv": "loss"}}}},
        None,
    )
    exc = OSError("bad")
    assert dvcresults.definitions({"definitions": {"error": exc}}) == ({}, exc)


def test_reason_is_one_line() -> None:
    assert dvcresults.reason(ValueError("first\n  second")) == "first second"
    assert dvcresults.reason(ValueError("")) == "ValueError"

    class YAMLValidationError(Exception):  # DVC's schema error (dvc.utils.strictyaml), by name
        pass

    schema = YAMLValidationError("'./dvc.yaml' validation failed")
    schema.__cause__ = ValueError("expected str @ data['y']")
    assert dvcresults.reason(schema) == "'./dvc.yaml' validation failed: expected str @ data['y']"
    corrupt = ValueError("unable to read: 'dvc.yaml', YAML file structure is corrupted")
    corrupt.__cause__ = ValueError("found character '\t' ... extraheader = AUTHORIZATION: basic c2VjcmV0")
    assert dvcresults.reason(corrupt) == "unable to read: 'dvc.yaml', YAML file structure is corrupted"


def test_choose_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "dvc.yaml").write_text("metrics: [m.json]\n")
    assert dvcrepo.choose(tmp_path, "builtin") == "builtin"
    assert dvcrepo.choose(tmp_path, "auto") == "builtin"  # no .dvc folder: DVC would not read it
    with pytest.raises(ConfigError, match=r"not a DVC repository \(no \.dvc folder\)"):
        dvcrepo.choose(tmp_path, "dvc")
    (tmp_path / ".dvc").mkdir()
    monkeypatch.setattr(dvcrepo, "installed", lambda: True)
    assert dvcrepo.choose(tmp_path, "auto") == "dvc"
    assert dvcrepo.choose(tmp_path, "dvc") == "dvc"
    monkeypatch.setattr(dvcrepo, "installed", lambda: False)
    assert dvcrepo.choose(tmp_path, "auto") == "builtin"
    with pytest.raises(ConfigError, match=r"DVC is not installed \(pip install 'cml-suite\[dvc\]'\)"):
        dvcrepo.choose(tmp_path, "dvc")
    with pytest.raises(UsageError, match="--reader 'dvcs'"):
        dvcrepo.choose(tmp_path, "dvcs")


def test_choosing_a_reader_does_not_import_dvc(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pathlib import Path; from cml.report import dvcrepo; "
        f"dvcrepo.choose(Path({str(tmp_path)!r}), 'auto'); print('dvc' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_the_builtin_reader_names_what_only_dvc_reads() -> None:
    text = """vars: [{out: results}]
metrics:
  - ${out}/m.json
  - plain.json
stages:
  grid:
    matrix: {lr: [0.1, 0.2]}
    cmd: python train.py ${item.lr}
  one:
    cmd: python one.py
    metrics: [one.json]
"""
    read = dvcyaml.from_dvc_yaml(text, "dvc.yaml")
    assert read.metrics == ("plain.json", "one.json")
    assert read.notes == (
        f"dvc.yaml: stages.grid: a matrix stage, expanded by DVC only ({dvcyaml.DVC_ONLY}); not read",
        f"dvc.yaml: ${{out}}/m.json: ${{}} is filled in by DVC only ({dvcyaml.DVC_ONLY}); not read",
    )


def test_resolved_definitions_become_the_same_specs_as_dvc_yaml() -> None:
    defs = {
        "dvc.yaml": {
            "loss": {"title": "Loss", "x": "epoch", "y": {"train.json": ["loss", "val_loss"]}},
            "preds.csv": {"template": "confusion", "x": "actual", "y": "predicted"},
            "importance.png": {},
        }
    }
    got = dvcyaml.resolved(defs)
    assert [(p.title, p.series) for p in got.plots] == [
        ("Loss", (("train.json", "epoch", "loss"), ("train.json", "epoch", "val_loss")))
    ]
    assert [c.path for c in got.confusions] == ["preds.csv"]
    assert got.notes == ("dvc.yaml: importance.png: an image plot; not shown (cml draws data plots only)",)
