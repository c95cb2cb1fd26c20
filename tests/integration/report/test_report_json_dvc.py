"""``cml report --json``'s ``diff`` against ``dvc metrics diff --json`` / ``dvc params diff --json`` on
the same two revisions of a small DVC project (real DVC 3)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git
from tests.integration.report.conftest import Cml, commit_all, write

pytest.importorskip("dvc")
pytestmark = pytest.mark.slow  # three DVC commands, about 2 s each

DVC_YAML = """stages:
  train:
    cmd: python train.py
    params: [lr, model.depth, layers, opt, batch]
    metrics:
    - metrics.json:
        cache: false
    - other.json:
        cache: false
"""
BASE = {
    "dvc.yaml": DVC_YAML,
    "metrics.json": '{"acc": 0.9, "loss": 0.3, "eval": {"f1": 0.8}, "status": "ok", "gone": 1, "n": 5}',
    "other.json": '{"x": 1, "flag": true}',
    "params.yaml": "lr: 0.1\nmodel:\n  depth: 3\nlayers: [64, 32]\nopt: sgd\nbatch: 4\n",
}
HEAD = {
    "metrics.json": '{"acc": 0.87, "loss": 0.25, "eval": {"f1": 0.8}, "status": "bad", "new": 2, "n": NaN}',
    "other.json": '{"x": 1.5, "flag": false}',
    "params.yaml": "lr: 0.01\nmodel:\n  depth: 4\nlayers: [128, 64, 32]\nopt: adam\nbatch: 4\n",
}


def _dvc(root: Path, *argv: str) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "dvc", *argv], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if "--json" in argv else None


def _as_dvc(ours: dict[str, Any]) -> dict[str, Any]:
    """Our entries in DVC's spelling, where the two differ on purpose: a list param is DVC's Python
    text of it; DVC subtracts booleans (True - False), we give text and booleans no diff."""
    out: dict[str, Any] = {}
    for file, entries in ours.items():
        out[file] = {}
        for name, given in entries.items():
            entry = {k: str(v) if isinstance(v, list) else v for k, v in given.items()}
            if isinstance(entry["old"], bool) and isinstance(entry["new"], bool):
                entry["diff"] = int(entry["new"]) - int(entry["old"])
            out[file][name] = entry
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and 5 equal to 5.0 (DVC keeps JSON integers, cml reads floats)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return a == b and (type(a) is type(b) or {type(a), type(b)} <= {int, float})


@pytest.mark.parametrize("every", [False, True], ids=["changed", "all"])
def test_json_diff_is_dvcs(repo: Path, cml: Cml, monkeypatch: pytest.MonkeyPatch, every: bool) -> None:
    _dvc(repo, "init", "-q")
    write(repo, BASE)
    old = commit_all(repo, "base")
    write(repo, HEAD)
    new = commit_all(repo, "head")
    monkeypatch.chdir(repo)
    flags = ["--all"] if every else []
    metrics = _dvc(repo, "metrics", "diff", "--json", *flags, old, new)
    params = _dvc(repo, "params", "diff", "--json", *flags, old, new)
    code, out, err = cml("--head", new, "--base", old, "--json", "--output", str(repo.parent / "out"), *flags)
    assert code == 0, err
    ours = json.loads(out)["diff"]
    assert _same(_as_dvc(ours["metrics"]), metrics), (ours["metrics"], metrics)
    assert _same(_as_dvc(ours["params"]), params), (ours["params"], params)
    assert ours["metrics"]["metrics.json"]["acc"] == {"old": 0.9, "new": 0.87, "diff": 0.87 - 0.9}
    assert ours["params"]["params.yaml"]["layers"] == {"old": [64, 32], "new": [128, 64, 32]}
    assert git(repo, "status", "--porcelain") == ""  # --head/--base: nothing written into the tree
