"""Runs that race on one sticky title leave exactly one note (real processes, fake GitLab)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.gitlab import FakeGitLab, Project
from tests.integration.gitlab.conftest import MR_IID, TOKEN
from tests.integration.race import hold, leaks, run_all


def _ours(fake: FakeGitLab, project: Project) -> list[dict[str, object]]:
    return [n for n in fake.notes(project, "merge_requests", MR_IID) if "cml:sticky" in str(n["body"])]


@pytest.mark.parametrize("round_", range(10))
def test_racing_updates_leave_one_note(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, round_: int
) -> None:
    n = 2 + round_ % 2
    reports = []
    for k in range(n):
        (repo / f"report-{k}.md").write_text(f"# Metrics\n\nrun {k}\n")
        reports.append(["comment", "update", f"report-{k}.md"])
    hold(fake, "GET", rf"/merge_requests/{MR_IID}/notes$", n)  # every run has looked before any posts
    done = run_all(reports, env, repo)
    assert [d.code for d in done] == [0] * n, [d.err for d in done]
    [kept] = _ours(fake, project)
    assert kept["author"]["username"] == "project_42_bot"  # type: ignore[index]
    assert any(f"run {k}" in str(kept["body"]) for k in range(n))
    assert len(fake.calls("POST", r"/notes$")) == n  # each run did create: a real race
    assert len(fake.calls("DELETE", r"/notes/\d+$")) >= n - 1
    printed = [d.out.strip().splitlines()[-1] for d in done]
    assert any(url.endswith(f"#note_{kept['id']}") for url in printed)
    assert not any(leaks(TOKEN, d.out + d.err) for d in done)


def test_racing_commit_notes_leave_one(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    (repo / "r.md").write_text("commit report\n")
    hold(fake, "GET", r"/discussions$", 3)
    done = run_all([["comment", "update", "r.md", "--target", "commit"]] * 3, env, repo)
    assert [d.code for d in done] == [0] * 3, [d.err for d in done]
    [sha] = project.discussions
    [thread] = project.discussions[sha]  # emptied threads are gone too
    assert len(thread["notes"]) == 1
    assert len(fake.calls("POST", r"/discussions$")) == 3
