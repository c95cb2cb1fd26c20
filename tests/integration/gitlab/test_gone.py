"""A sticky note deleted between the listing and the edit: cml posts a new one (fake GitLab)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from cml.cli import main
from tests.fakes.gitlab import FakeGitLab, Project
from tests.fakes.http import Reply, Request
from tests.integration.gitlab.conftest import MR_IID, TOKEN


def before_first(fake: FakeGitLab, method: str, act: Callable[[], None]) -> None:
    """Run ``act`` (someone deleting the note in the web UI) just before the first ``method``."""
    dispatch, fired = fake.dispatch, []

    def racing(req: Request) -> Reply:
        if req.method == method and not fired:
            fired.append(req)
            act()
        return dispatch(req)

    fake.dispatch = racing  # type: ignore[method-assign]


def test_deleted_before_the_edit_is_posted_again(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (repo / "r.md").write_text("first\n")
    assert main(["comment", "update", "r.md"], env) == 0
    notes = fake.notes(project, "merge_requests", MR_IID)
    [old] = notes
    before_first(fake, "PUT", lambda: notes.remove(old))
    (repo / "r.md").write_text("second\n")
    assert main(["comment", "update", "r.md", "--json"], env) == 0
    captured = capfd.readouterr()
    posted = json.loads(captured.out.strip().splitlines()[-1])
    [new] = fake.notes(project, "merge_requests", MR_IID)
    assert new["id"] != old["id"]
    assert str(new["body"]).endswith("second\n")
    assert posted["action"] == "created"
    assert posted["url"].endswith(f"#note_{new['id']}")
    assert [r.method for r in fake.requests if r.method != "GET"][-2:] == ["PUT", "POST"]
    assert "cml: error" not in captured.err
    assert TOKEN not in captured.out + captured.err


def test_a_commit_note_deleted_before_the_edit(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sha: str
) -> None:
    (repo / "r.md").write_text("first\n")
    assert main(["comment", "update", "r.md", "--target", "commit"], env) == 0
    [thread] = project.discussions[sha]
    before_first(fake, "PUT", lambda: project.discussions[sha].remove(thread))
    assert main(["comment", "update", "r.md", "--target", "commit"], env) == 0
    [again] = project.discussions[sha]
    assert again["id"] != thread["id"]
    assert fake.calls("PUT", rf"/discussions/{thread['id']}/notes/\d+$")
