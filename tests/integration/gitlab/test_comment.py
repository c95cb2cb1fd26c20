"""``cml comment`` against the fake GitLab, end to end through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml import comment
from cml.cli import main
from tests.fakes.gitlab import FakeGitLab, Project
from tests.integration.gitlab.conftest import MR_IID

MR = ("merge_requests", MR_IID)


def report(repo: Path, text: str = "# Report\n\naccuracy 0.9\n") -> Path:
    path = repo / "report.md"
    path.write_text(text)
    return path


def update(env: dict[str, str], path: Path, *extra: str) -> int:
    return main(["comment", "update", str(path), *extra], env)


def test_update_creates_then_edits_one_note(fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = report(repo)
    assert update(env, path) == 0
    assert update(env, report(repo, "# Report\n\naccuracy 0.95\n")) == 0
    notes = fake.notes(project, *MR)
    assert len(notes) == 1
    assert "accuracy 0.95" in notes[0]["body"]
    assert notes[0]["author"]["username"] == "project_42_bot"
    out = capsys.readouterr().out.split()
    assert out[-1] == f"{fake.url}/group/project/-/merge_requests/7#note_{notes[0]['id']}"
