"""A sticky update reads GitLab's MR notes newest first (``sort=desc&order_by=created_at``, GitLab's
documented note sort) and stops at ours: one request when ours is among the newest 100."""

from __future__ import annotations

from pathlib import Path

from cml.cli import main
from cml.comment import marker
from tests.fakes.gitlab import FakeGitLab, Project
from tests.integration.gitlab.conftest import MR_IID

MR = ("merge_requests", MR_IID)


def _update(env: dict[str, str], repo: Path) -> int:
    path = repo / "report.md"
    path.write_text("# Report\n\naccuracy 0.9\n")
    return main(["comment", "update", str(path), "--watermark-title", "report"], env)


def _chatter(fake: FakeGitLab, project: Project, n: int) -> None:
    for i in range(n):
        fake.add_note(project, *MR, f"chatter {i}", "alice")


def _ours(fake: FakeGitLab, project: Project) -> dict[str, object]:
    return fake.add_note(project, *MR, marker("report", "abcdef") + "\nold report", "project_42_bot")


def _listings(fake: FakeGitLab) -> list[tuple[str | None, str | None]]:
    return [(r.arg("sort"), r.arg("page")) for r in fake.calls("GET", r"/notes$")]


def test_ours_newest_costs_one_request(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    _chatter(fake, project, 2_999)
    ours = _ours(fake, project)
    assert _update(env, repo) == 0
    assert _listings(fake) == [("desc", None)]
    assert "accuracy 0.9" in str(ours["body"])
    assert [r.method for r in fake.requests if r.method != "GET"] == ["PUT"]


def test_ours_oldest_reads_every_page_newest_first(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    ours = _ours(fake, project)
    _chatter(fake, project, 299)
    assert _update(env, repo) == 0
    assert _listings(fake) == [("desc", None), ("desc", "2"), ("desc", "3")]
    assert "accuracy 0.9" in str(ours["body"])
    assert [r.method for r in fake.requests if r.method != "GET"] == ["PUT"]


def test_none_of_ours_creates_once_after_a_full_read(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    _chatter(fake, project, 150)
    assert _update(env, repo) == 0
    assert _listings(fake) == [("desc", None), ("desc", "2"), ("asc", None), ("asc", "2")]
    assert sum("accuracy 0.9" in n["body"] for n in fake.notes(project, *MR)) == 1
    assert [r.method for r in fake.requests if r.method != "GET"] == ["POST"]
