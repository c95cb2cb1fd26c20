"""A merge request pipeline from a fork writes to the MR's project, never to the fork it runs in.

GitLab runs a fork MR's pipeline in the fork: ``CI_PROJECT_ID``/``_PATH`` name the fork, while the MR
(and so its notes, the uploads its notes link and the statuses it shows) lives in
``CI_MERGE_REQUEST_PROJECT_ID``/``_PATH``. The fake holds the MR in the parent; the fork holds the
head commit too, so anything sent there would land and be seen.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cml.cli import main
from tests.fakes.gitlab import FakeGitLab, Project
from tests.integration.gitlab.conftest import MR_IID, TOKEN
from tests.leaks import leaks

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(200))


@pytest.fixture
def parent(fake: FakeGitLab) -> Project:
    return fake.add_project("group/project", 42)


@pytest.fixture
def fork(fake: FakeGitLab, parent: Project, sha: str) -> Project:
    """``eve/project`` (id 77), a fork with MR !7 into ``group/project`` whose head is the repo's HEAD."""
    project = fake.add_project("eve/project", 77)
    fake.add_mr(parent, MR_IID, sha, source=project, source_branch="fix-loss")
    return project


def _env(fake: FakeGitLab, sha: str, *, pipeline: Project, parent: Project, fork: Project) -> dict[str, str]:
    """The predefined variables of an MR pipeline running in ``pipeline`` (the fork, or the parent)."""
    return {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": fake.url,
        "CI_API_V4_URL": fake.api,
        "CI_PROJECT_ID": str(pipeline.id),
        "CI_PROJECT_PATH": pipeline.path,
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_COMMIT_SHA": sha,
        "CI_MERGE_REQUEST_IID": str(MR_IID),
        "CI_MERGE_REQUEST_PROJECT_ID": str(parent.id),
        "CI_MERGE_REQUEST_PROJECT_PATH": parent.path,
        "CI_MERGE_REQUEST_SOURCE_PROJECT_ID": str(fork.id),
        "CI_MERGE_REQUEST_SOURCE_PROJECT_PATH": fork.path,
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "fix-loss",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_JOB_NAME": "report",
        "REPO_TOKEN": TOKEN,
    }


def _untouched(fake: FakeGitLab, fork: Project) -> None:
    """Nothing stored in the fork and no request addressed to it."""
    assert (fork.notes, fork.discussions, fork.uploads, fork.statuses) == ({}, {}, [], {})
    paths = [r.path for r in fake.requests]
    assert paths
    assert all(re.match(r"^/api/v4/(user$|projects/(42|group%2Fproject)(/|$))", p) for p in paths), paths


@pytest.mark.parametrize("runs_in", ["fork", "parent"])
def test_note_and_its_image_go_to_the_mr_project(
    fake: FakeGitLab,
    parent: Project,
    fork: Project,
    sha: str,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    runs_in: str,
) -> None:
    """By default the pipeline runs in the fork; a parent member may run it in the parent: same result."""
    monkeypatch.chdir(repo)
    env = _env(fake, sha, pipeline=fork if runs_in == "fork" else parent, parent=parent, fork=fork)
    (repo / "loss.png").write_bytes(PNG)
    (repo / "report.md").write_text("# Loss\n\n![loss](loss.png)\n")
    assert main(["comment", "update", "report.md"], env) == 0
    out = capfd.readouterr()
    [note] = fake.notes(parent, "merge_requests", MR_IID)
    [upload] = parent.uploads
    assert upload["content"] == PNG
    assert f"![loss]({upload['url']})" in note["body"]  # relative: it renders in the parent's MR
    assert out.out.strip() == f"created {fake.url}/group/project/-/merge_requests/{MR_IID}#note_{note['id']}"
    _untouched(fake, fork)
    assert not leaks(out.out + out.err, TOKEN)


def test_status_goes_to_the_mr_project(
    fake: FakeGitLab,
    parent: Project,
    fork: Project,
    sha: str,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(repo)
    env = _env(fake, sha, pipeline=fork, parent=parent, fork=fork)
    (repo / "gate.md").write_text("# accuracy fell below 0.9\n")
    assert main(["check", "create", "gate.md", "--conclusion", "failure", "--name", "cml/gate"], env) == 0
    out = capfd.readouterr()
    [status] = parent.statuses[sha]
    assert (status["status"], status["name"], status["description"]) == (
        "failed",
        "cml/gate",
        "accuracy fell below 0.9",
    )
    assert out.out.strip() == f"{fake.url}/group/project/-/commit/{sha}"
    _untouched(fake, fork)
    assert not leaks(out.out + out.err, TOKEN)


def test_publish_uploads_to_the_mr_project(
    fake: FakeGitLab,
    parent: Project,
    fork: Project,
    sha: str,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(repo)
    env = _env(fake, sha, pipeline=fork, parent=parent, fork=fork)
    (repo / "plot.png").write_bytes(PNG)
    assert main(["publish", "plot.png", "--md"], env) == 0
    [upload] = parent.uploads
    assert capfd.readouterr().out.strip() == f"![plot.png]({upload['url']})"
    [post] = fake.calls("POST")
    assert post.path == "/api/v4/projects/42/uploads"
    _untouched(fake, fork)


def test_a_gone_mr_project_is_one_line_and_nothing_lands_in_the_fork(
    fake: FakeGitLab,
    parent: Project,
    fork: Project,
    sha: str,
    repo: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The parent deleted (or not visible to the token): GitLab answers 404; cml never falls back to the fork."""
    monkeypatch.chdir(repo)
    env = _env(fake, sha, pipeline=fork, parent=parent, fork=fork)
    del fake.projects[parent.id]
    (repo / "report.md").write_text("# Loss\n")
    assert main(["comment", "update", "report.md"], env) == 4
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("cml: ")]
    assert len(lines) == 1, err
    assert lines[0].startswith("cml: error: project 'group/project' not found at ")
    assert "CI_MERGE_REQUEST_PROJECT_ID / _PATH" in lines[0]
    assert (fork.notes, fork.uploads, fork.statuses) == ({}, [], {})
    assert not leaks(err, TOKEN)
