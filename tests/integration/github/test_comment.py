"""``cml comment`` against the fake GitHub, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.github import FakeGitHub
from tests.fakes.http import Fault, Request
from tests.integration.github.conftest import (
    BOT_TOKEN,
    HEAD_SHA,
    PR,
    REPO,
    Cml,
    actions_env,
)


def _comments(fake: FakeGitHub, number: int = PR) -> list[dict[str, object]]:
    return [c for c in fake.repos[REPO].issue_comments if c["_issue"] == number]


def _ours(fake: FakeGitHub) -> list[dict[str, object]]:
    return [c for c in _comments(fake) if "cml:sticky" in str(c["body"])]


def test_update_creates_then_edits_in_place(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert cml("comment", "update", str(report), env=env) == 0
    printed = capfd.readouterr().out.strip().splitlines()[-1]
    assert printed.startswith("created ")
    first = printed.removeprefix("created ")
    report.write_text("# Metrics\n\nacc 0.95\n")
    assert cml("comment", "update", str(report), "--json", env=env) == 0
    out = json.loads(capfd.readouterr().out.strip().splitlines()[-1])
    assert out["action"] == "updated"
    assert out["url"] == first
    [ours] = _ours(fake)
    assert "acc 0.95" in str(ours["body"])
    assert f"/pull/{PR}#issuecomment-" in first


def test_cold_update_needs_at_most_four_requests(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    assert cml("comment", "update", str(report), env=env) == 0
    fake.requests.clear()
    assert cml("comment", "update", str(report), env=env) == 0
    assert [(r.method, r.path) for r in fake.requests] == [
        ("GET", "/user"),
        ("GET", f"/repos/{REPO}/issues/{PR}/comments"),
        ("PATCH", f"/repos/{REPO}/issues/comments/{_ours(fake)[0]['id']}"),
    ]


def test_finds_ours_on_a_later_page(fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path) -> None:
    for i in range(40):
        fake.add_issue_comment(REPO, PR, f"chatter {i}", "bob")
    assert cml("comment", "update", str(report), env=env) == 0
    for i in range(110):
        fake.add_issue_comment(REPO, PR, f"later chatter {i}", "bob")
    assert len(_comments(fake)) == 151
    assert cml("comment", "update", str(report), env=env) == 0
    assert len(_ours(fake)) == 1
    assert len(fake.calls("GET", r"/comments$")) >= 3  # 2 pages on the second run
    assert len(fake.writes()) == 2
    assert fake.writes()[1].method == "PATCH"


def test_leaves_another_users_copy_alone(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    assert cml("comment", "update", str(report), env=env) == 0
    [mine] = _ours(fake)
    fake.add_issue_comment(REPO, PR, str(mine["body"]), "mallory")  # a quote carrying our marker
    assert cml("comment", "update", str(report), env=env) == 0
    assert [c["user"]["login"] for c in _ours(fake)] == ["ada", "mallory"]  # type: ignore[index]
    assert fake.writes()[-1].method == "PATCH"
    assert fake.writes()[-1].path.endswith(f"/{mine['id']}")


def test_another_users_copy_when_we_have_none(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, tmp_path: Path
) -> None:
    other = actions_env(fake, tmp_path, token=BOT_TOKEN)
    assert cml("comment", "update", str(report), env=other) == 0  # the bot's comment
    assert cml("comment", "update", str(report), env=env) == 0  # ada creates her own
    assert sorted(c["user"]["login"] for c in _ours(fake)) == ["ada", "github-actions[bot]"]  # type: ignore[index]


def test_titles_keep_separate_comments(fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path) -> None:
    for _ in range(2):
        for title in ("train", "eval", "bench"):
            assert cml("comment", "update", str(report), "--watermark-title", title, env=env) == 0
    assert len(_ours(fake)) == 3
    assert sum(r.method == "POST" for r in fake.writes()) == 3


def test_fifty_updates_keep_one_comment(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    for i in range(50):
        report.write_text(f"# run {i}\n")
        assert cml("comment", "update", str(report), env=env) == 0
    [ours] = _ours(fake)
    assert "# run 49" in str(ours["body"])


def test_create_always_posts(fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path) -> None:
    assert cml("comment", "create", str(report), env=env) == 0
    assert cml("comment", "create", str(report), env=env) == 0
    assert len(_ours(fake)) == 2
    assert not fake.calls("GET", "/user")


def test_installation_token_is_the_actions_bot(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path
) -> None:
    env = actions_env(fake, tmp_path, token=BOT_TOKEN)
    for _ in range(2):
        assert cml("comment", "update", str(report), env=env) == 0
    [ours] = _ours(fake)
    assert ours["user"]["login"] == "github-actions[bot]"  # type: ignore[index]


def test_targets_commit_and_issue(fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path) -> None:
    fake.repos[REPO].issues.add(12)
    assert cml("comment", "update", str(report), "--target", "commit", env=env) == 0
    assert cml("comment", "update", str(report), "--target", "commit", env=env) == 0
    assert cml("comment", "update", str(report), "--target", "issue/12", env=env) == 0
    [commit] = fake.repos[REPO].commit_comments
    assert commit["_sha"] == HEAD_SHA  # the PR head from the payload, never GITHUB_SHA
    assert fake.calls("PATCH", rf"^/repos/{REPO}/comments/{commit['id']}$")
    assert len(_comments(fake, 12)) == 1


def test_auto_target_looks_up_the_pr_for_a_push(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path
) -> None:
    env = actions_env(fake, tmp_path, GITHUB_EVENT_NAME="push", GITHUB_SHA=HEAD_SHA)
    env.pop("GITHUB_EVENT_PATH")
    assert cml("comment", "update", str(report), env=env) == 0
    assert fake.calls("GET", rf"/commits/{HEAD_SHA}/pulls$")
    assert len(_ours(fake)) == 1


def test_github_enterprise_prefix(fake_ghe: FakeGitHub, tmp_path: Path, cml: Cml, report: Path) -> None:
    env = actions_env(fake_ghe, tmp_path)
    assert env["GITHUB_API_URL"].endswith("/api/v3")
    assert cml("comment", "update", str(report), env=env) == 0
    for i in range(120):
        fake_ghe.add_issue_comment(REPO, PR, f"chatter {i}", "bob")
    assert cml("comment", "update", str(report), env=env) == 0
    assert len(_ours(fake_ghe)) == 1
    # 1 page + the re-read after creating, then 2 pages: the second page's Link kept /api/v3
    assert len(fake_ghe.calls("GET", r"/comments$")) == 4


def test_thirty_percent_faults_keep_one_comment(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, sleeps: list[float]
) -> None:
    import random

    rng = random.Random(3)
    advised: list[float] = []

    def make(req: Request) -> Fault:
        choice = rng.randrange(5 if req.method != "GET" else 4)
        advised.append({1: 7.0, 2: 11.0, 3: 1.0}.get(choice, -1.0))
        if choice == 0:
            return Fault("status", status=rng.choice([500, 502, 503]))
        if choice == 1:
            return Fault("status", status=429, headers={"Retry-After": "7"})
        if choice == 2:
            return Fault(
                "status",
                status=403,
                headers={"Retry-After": "11"},
                body={
                    "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    "documentation_url": "https://docs.github.com",
                },
            )
        if choice == 3:
            return Fault(
                "status",
                status=403,
                headers={"x-ratelimit-remaining": "0", "x-ratelimit-reset": "0"},
                body={
                    "message": "API rate limit exceeded for user ID 1.",
                    "documentation_url": "https://docs.github.com",
                },
            )
        return Fault("reset_after")

    fake.faults.random(0.3, [make], seed=11)
    for i in range(50):
        report.write_text(f"# run {i}\n")
        assert cml("comment", "update", str(report), env=env) == 0, i
    fake.faults.clear()
    [ours] = _ours(fake)
    assert "# run 49" in str(ours["body"])
    kinds = {k for _, _, k in fake.faults.fired}
    assert kinds == {"status", "reset_after"}
    for wait in (7.0, 11.0):  # every Retry-After honoured, exactly
        assert advised.count(wait) >= 3
        assert sleeps.count(wait) == advised.count(wait)
    # a primary rate limit with x-ratelimit-reset in the past waits ~1 s
    assert sum(1 for s in sleeps if 0.9 < s < 1.1) >= advised.count(1.0)
    assert fake.writes()
