"""Real DVC projects in temporary git repositories, built with DVC 3 and dvclive 3 (the ``dvc`` extra),
and what the ``dvc`` command says about them, for comparing ``cml report`` with DVC itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from cml import git as cml_git
from cml.report import pipeline, sources
from cml.report.pipeline import Computed
from tests.conftest import git
from tests.integration.report.conftest import commit_all, write

#: The dvc command of the interpreter running the tests (the ``dvc`` extra installs it beside it).
DVC = Path(sys.executable).parent / "dvc"
ENV = {
    "DVC_NO_ANALYTICS": "1",
    "GIT_AUTHOR_NAME": "Ada",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
}


def run(root: Path, *argv: str) -> str:
    """Run ``argv`` in ``root`` (``dvc`` is the tests' own); its stdout; AssertionError with stderr."""
    cmd = [str(DVC), *argv[1:]] if argv[0] == "dvc" else list(argv)
    env = {**os.environ, **ENV, "PYTHONPATH": ""}
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"{' '.join(argv)}: {done.stderr[-2000:]}"
    return done.stdout


def dvc_diff(root: Path, what: str, base: str) -> dict[str, dict[str, Any]]:
    """``dvc metrics|params diff BASE --json --all``: ``{file: {name: {old, new, diff}}}``."""
    out = run(root, "dvc", what, "diff", base, "--json", "--all").strip()
    return json.loads(out) if out else {}


def expected(diff: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """DVC's diff keyed as cml names rows: ``name`` with one file, ``file:name`` with several."""
    by_file = len(diff) > 1
    return {
        f"{file}:{name}" if by_file else name: v for file, rows in diff.items() for name, v in rows.items()
    }


def compute(root: Path, reader: str, base: str, stored: Any = None) -> Computed:
    """The library's report data for ``root``'s work tree against ``base``, read with ``reader``."""
    src = sources.discover(root, reader)
    head = cml_git.head_sha(root)
    opts = pipeline.Options(sources=src, reader=reader)
    return pipeline.compute(root, head, opts, (cml_git.commit(root, base), "test"), stored)


TRAIN = '''"""A tiny dvclive training: metrics per step, params, two sklearn plots."""
import sys

from dvclive import Live

LR = float(sys.argv[1])
with Live(save_dvc_exp=False) as live:
    live.log_params({"lr": LR, "layers": [64, 32] if LR < 0.15 else [128, 64, 32], "optimizer": "adam"})
    for step in range(3):
        live.log_metric("train/loss", round(1.0 / (step + 1) / (LR * 10), 6))
        live.log_metric("acc", round(0.5 + step * LR, 6))
        live.next_step()
    live.log_sklearn_plot("confusion_matrix", [0, 1, 1, 0], [0, 1, 0 if LR < 0.15 else 1, 0])
    live.log_sklearn_plot("roc", [0, 1, 1, 0], [0.1, 0.8, 0.4 + LR, 0.3])
'''


def dvclive_project(repo: Path) -> tuple[str, str]:
    """``repo`` as dvclive leaves it: trained with lr 0.1 on main (base), then 0.2 on ``feature``."""
    run(repo, "dvc", "init", "-q")
    write(repo, {"train.py": TRAIN, ".gitignore": "cml-report/\n"})
    commit_all(repo, "dvc init")
    run(repo, sys.executable, "train.py", "0.1")
    base = commit_all(repo, "train lr 0.1")
    git(repo, "checkout", "-q", "-b", "feature")
    run(repo, sys.executable, "train.py", "0.2")
    return base, commit_all(repo, "train lr 0.2")


PIPELINE = {
    "dvc.yaml": """vars:
  - out: results
stages:
  train:
    foreach: ${models}
    do:
      cmd: python train.py ${key} ${item.depth}
      deps: [train.py]
      params:
        - models.${key}.depth
      metrics:
        - ${out}/${key}.json:
            cache: false
  score:
    cmd: python score.py
    deps: [score.py, results]
    params:
      - train.yaml:
          - lr
          - batch
    metrics:
      - cached/score.json
""",
    "train.py": """import json, os, sys
key, depth = sys.argv[1], int(sys.argv[2])
os.makedirs("results", exist_ok=True)
with open(f"results/{key}.json", "w") as f:
    json.dump({"acc": round(0.5 + depth / 10, 4), "loss": round(1 / depth, 4)}, f)
""",
    "score.py": """import json, os, yaml
p = yaml.safe_load(open("train.yaml"))
os.makedirs("cached", exist_ok=True)
with open("cached/score.json", "w") as f:
    json.dump({"score": p["lr"] * p["batch"], "nested": {"f1": p["lr"]}}, f)
""",
    "sub/dvc.yaml": """stages:
  eval:
    cmd: python eval.py
    deps: [eval.py]
    metrics:
      - eval.json:
          cache: false
""",
    "sub/eval.py": """import json
with open("eval.json", "w") as f:
    json.dump({"auc": AUC}, f)
""",
}


def pipeline_project(repo: Path, remote: Path) -> tuple[str, str]:
    """A DVC pipeline with ``vars``, a ``foreach`` stage, a nested ``dvc.yaml``, a key-filtered params
    file and a metrics file kept in DVC's cache (pushed to the local remote ``remote``): base on main,
    head on ``feature`` with other params."""
    run(repo, "dvc", "init", "-q")
    run(repo, "dvc", "remote", "add", "-d", "store", str(remote))
    files = {**PIPELINE, "sub/eval.py": PIPELINE["sub/eval.py"].replace("AUC", "0.7")}
    write(repo, {**files, ".gitignore": "cml-report/\n"})
    _stage(repo, "models:\n  small: {depth: 2}\n  big: {depth: 4}\n", "lr: 0.1\nbatch: 32\nepochs: 3\n")
    base = commit_all(repo, "base run")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {"sub/eval.py": PIPELINE["sub/eval.py"].replace("AUC", "0.75")})
    _stage(repo, "models:\n  small: {depth: 2}\n  big: {depth: 5}\n", "lr: 0.05\nbatch: 32\nepochs: 9\n")
    return base, commit_all(repo, "head run")


def _stage(repo: Path, params: str, train: str) -> None:
    """Write the params, reproduce every pipeline and push the cache."""
    write(repo, {"params.yaml": params, "train.yaml": train})
    run(repo, "dvc", "repro", "-q", "-P")
    run(repo, "dvc", "push", "-q")
