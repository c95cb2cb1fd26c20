"""A project repository with a base commit on main and a head commit on a feature branch."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cml.cli import main
from tests.conftest import git


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


BASE_FILES = {
    "metrics.json": json.dumps({"accuracy": 0.90, "loss": 0.30, "eval": {"f1": 0.80}}),
    "params.yaml": "lr: 0.1\nbatch: 32\nmodel:\n  depth: 3\n",
    "train.csv": "epoch,acc\n1,0.5\n2,0.7\n3,0.9\n",
    "preds.csv": "actual,predicted\ncat,cat\ndog,cat\ndog,dog\n",
}
HEAD_FILES = {
    "metrics.json": json.dumps({"accuracy": 0.87, "loss": 0.25, "eval": {"f1": 0.80}}),
    "params.yaml": "lr: 0.01\nbatch: 32\nmodel:\n  depth: 4\nopt: adam\n",
    "train.csv": "epoch,acc\n1,0.6\n2,0.8\n3,0.87\n",
    "preds.csv": "actual,predicted\ncat,cat\ndog,dog\ndog,dog\n",
}


@pytest.fixture
def project(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``repo`` with BASE_FILES committed on main and HEAD_FILES on branch ``feature`` (checked out)."""
    (repo / ".gitignore").write_text(".cml/\ncml-report/\n")
    write(repo, BASE_FILES)
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, HEAD_FILES)
    commit_all(repo, "head")
    monkeypatch.chdir(repo)
    return repo


Cml = Callable[..., tuple[int, str, str]]


@pytest.fixture
def cml(capsys: pytest.CaptureFixture[str]) -> Cml:
    """Run ``cml report ARGV`` (or ``cml check ...``) in-process; return (exit code, stdout, stderr)."""

    def run(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        capsys.readouterr()
        argv = argv if argv and argv[0] == "check" else ("report", *argv)
        code = main(list(argv), env if env is not None else {})
        out, err = capsys.readouterr()
        return code, out, err

    return run
