"""Runs that race on one sticky title leave exactly one comment (real processes, fake GitHub)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import PR, REPO, USER_TOKEN, actions_env
from tests.integration.race import hold, leaks, run_all


def _ours(fake: FakeGitHub) -> list[dict[str, object]]:
    return [
        c for c in fake.repos[REPO].issue_comments if c["_issue"] == PR and "cml:sticky" in str(c["body"])
    ]


def _reports(repo: Path, n: int) -> list[Path]:
    paths = []
    for k in range(n):
        path = repo / f"report-{k}.md"
        path.write_text(f"# Metrics\n\nrun {k}\n")
        paths.append(path)
    return paths


@pytest.mark.parametrize("round_", range(10))
def test_racing_updates_leave_one_comment(fake: FakeGitHub, tmp_path: Path, repo: Path, round_: int) -> None:
    n = 2 + round_ % 2  # 2 or 3 runs
    env = actions_env(fake, tmp_path)
    hold(fake, "GET", r"/issues/7/comments$", n)  # every run has looked before any posts
    done = run_all([["comment", "update", str(p)] for p in _reports(repo, n)], env, repo)
    assert [d.code for d in done] == [0] * n, [d.err for d in done]
    [kept] = _ours(fake)
    assert kept["user"]["login"] == "ada"  # type: ignore[index]
    assert any(f"run {k}" in str(kept["body"]) for k in range(n))
    assert len(fake.calls("POST", r"/issues/7/comments$")) == n  # each run did create: a real race
    assert len(fake.calls("DELETE")) >= n - 1
    printed = [d.out.strip().splitlines()[-1].split(" ")[-1] for d in done]  # "created URL" / "updated URL"
    assert kept["html_url"] in printed  # the last to create kept its own; others may have pointed at theirs
    assert all(url.startswith(f"{fake.html_root}/{REPO}/pull/{PR}#issuecomment-") for url in printed)
    assert not any(leaks(USER_TOKEN, d.out + d.err) for d in done)


def test_a_later_update_edits_the_one_left(fake: FakeGitHub, tmp_path: Path, repo: Path) -> None:
    env = actions_env(fake, tmp_path)
    hold(fake, "GET", r"/issues/7/comments$", 3)
    assert [
        d.code for d in run_all([["comment", "update", str(p)] for p in _reports(repo, 3)], env, repo)
    ] == [0] * 3
    [kept] = _ours(fake)
    (repo / "later.md").write_text("later run\n")
    [done] = run_all([["comment", "update", str(repo / "later.md")]], env, repo)
    assert done.code == 0, done.err
    [again] = _ours(fake)
    assert again["id"] == kept["id"]
    assert "later run" in str(again["body"])
