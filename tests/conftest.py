"""Test isolation: no CI variables, no tokens, no real sleeps, no secrets left between tests."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from cml import log
from cml.forges import retry

# A loaded 2-core CI machine makes hypothesis' 200 ms per-example deadline a source of flaky failures.
settings.register_profile("cml", deadline=None)
settings.load_profile("cml")

_CI_PREFIXES = ("GITHUB_", "GITLAB_", "CI_", "RUNNER_", "ACTIONS_", "CML_")
_CI_NAMES = {"CI", "GITHUB_ACTIONS", "GITLAB_CI", "REPO_TOKEN", "repo_token"}


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Strip CI env vars, record retry sleeps instead of sleeping, forget registered secrets."""
    for name in list(os.environ):
        if name in _CI_NAMES or name.startswith(_CI_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    sleeps: list[float] = []
    monkeypatch.setattr(retry, "sleep", sleeps.append)
    log.forget_secrets()
    yield sleeps
    log.forget_secrets()


@pytest.fixture
def sleeps(_isolate: list[float]) -> list[float]:
    """The waits the retry policy asked for during the test."""
    return _isolate


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` with a fixed identity; return stdout."""
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Ada",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }
    done = subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A real git repository with one commit, ``main`` checked out, user.name set to Ada."""
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Ada")
    git(root, "config", "user.email", "ada@example.com")
    (root / "README.md").write_text("demo\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "init")
    return root
