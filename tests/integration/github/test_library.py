"""The library calls under the commands (:mod:`cml.api`), without the CLI, against the fake GitHub:
typed results in, typed results out, and what the forge received."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cml import api
from cml.errors import AuthError, UsageError
from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import BOT_TOKEN, HEAD_SHA, PR, REPO, actions_env
from tests.integration.github.test_assets import png


def _ours(fake: FakeGitHub) -> list[dict[str, object]]:
    return [c for c in fake.repos[REPO].issue_comments if "cml:sticky" in str(c["body"])]


def test_post_creates_then_updates_and_says_which(
    fake: FakeGitHub, env: dict[str, str], report: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    request = api.CommentRequest(report=report, title="nightly")
    first = api.post(request, env)
    assert first.action == "created"
    report.write_text("# Metrics\n\nacc 0.95\n")
    second = api.post(request, env)
    assert (second.action, second.id, second.url) == ("updated", first.id, first.url)
    assert first.url.endswith(f"/pull/{PR}#issuecomment-{first.id}")
    [ours] = _ours(fake)
    assert str(ours["id"]) == first.id
    assert 'title="nightly"' in str(ours["body"])
    assert "acc 0.95" in str(ours["body"])
    writes = [(r.method, r.path) for r in fake.writes()]
    assert writes == [
        ("POST", f"/repos/{REPO}/issues/{PR}/comments"),
        ("PATCH", f"/repos/{REPO}/issues/comments/{first.id}"),
    ]


def test_a_non_sticky_post_to_a_commit_always_creates(
    fake: FakeGitHub, env: dict[str, str], report: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    request = api.CommentRequest(report=report, target=f"commit/{HEAD_SHA}", sticky=False)
    made = [api.post(request, env) for _ in range(2)]
    assert [p.action for p in made] == ["created", "created"]
    assert made[0].id != made[1].id
    assert [c["commit_id"] for c in fake.repos[REPO].commit_comments] == [HEAD_SHA, HEAD_SHA]
    assert not fake.calls("GET", "/user$")  # no sticky lookup: who we are does not matter


def test_plan_touches_no_forge_and_shows_the_body(
    fake: FakeGitHub, env: dict[str, str], report: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    png(repo / "a.png", 3)
    report.write_text("# Plots\n\n![a](a.png)\n")
    plan = api.plan(api.CommentRequest(report=report, title="t"), env)
    assert plan.forge == "github"
    assert plan.store is None
    assert plan.where == f"pr/{PR}"
    assert [(src, path.name) for src, path in plan.uploads] == [("a.png", "a.png")]
    assert plan.body.startswith('<!-- cml:sticky title="t" run="000000000000" -->\n# Plots')
    assert not fake.requests
    plan.check()  # no secret in it: no error


def test_a_bad_target_fails_before_any_request(
    fake: FakeGitHub, env: dict[str, str], report: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    with pytest.raises(UsageError, match="--target 'pr/x'"):
        api.post(api.CommentRequest(report=report, target="pr/x"), env)
    assert not fake.requests


def test_publish_returns_the_branch_url_and_the_file(
    fake: FakeGitHub, env: dict[str, str], repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    png(repo / "a.png", 7)
    done = api.publish(api.PublishRequest(file=Path("a.png")), env)
    assert fake.repos[REPO].refs["heads/cml-assets"]
    assert done.url.startswith(f"{fake.html_root}/{REPO}/blob/cml-assets/")
    assert (done.file, done.resolved, done.image) == (Path("a.png"), (repo / "a.png").resolve(), True)
    assert done.markdown("loss") == f"![loss]({done.url})"
    assert len(fake.calls("POST", "/git/blobs$")) == 1


def test_check_sets_a_check_run_on_the_pr_head(
    fake: FakeGitHub, tmp_path: Path, report: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    env = actions_env(fake, tmp_path, token=BOT_TOKEN)
    done = api.check(api.CheckRequest(report=report, conclusion="failure", name="cml/gate"), env)
    [run] = fake.repos[REPO].check_runs
    assert done == api.Checked(url=run["html_url"], name="cml/gate", conclusion="failure", title="Metrics")
    assert (run["head_sha"], run["name"], run["conclusion"]) == (HEAD_SHA, "cml/gate", "failure")
    assert "| acc | 0.91 |" in run["output"]["summary"]


def test_a_rejected_token_is_an_auth_error(
    fake: FakeGitHub, tmp_path: Path, report: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(repo)
    env = actions_env(fake, tmp_path, token="tok-nobody-000000000000")
    with pytest.raises(AuthError):
        api.post(api.CommentRequest(report=report), env)
    assert fake.requests  # it asked, and was refused
    assert not fake.writes()


def test_report_returns_a_failed_gate_and_the_posted_comment(
    fake: FakeGitHub, env: dict[str, str], repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failed gate is in the result, not raised: the report is written and posted first."""
    monkeypatch.chdir(repo)
    (repo / "metrics.json").write_text(json.dumps({"accuracy": 0.5}))
    request = api.ReportRequest(metrics=("metrics.json",), fail_on=("accuracy < 0.9",), post=True, title="T")
    result = api.report(request, env, cwd=repo)
    assert [c.rule.text for c in result.gate.failed] == ["accuracy < 0.9"]
    assert result.gate.conclusion == "failure"
    assert result.report == (repo / "cml-report" / "report.md").resolve()
    assert result.output == result.report.parent
    assert (result.plots, result.images, result.dropped) == (0, (), ())
    assert result.baseline is None  # the fake repository has no baseline commit to read
    assert result.posted is not None
    assert result.posted.action == "created"
    [ours] = _ours(fake)
    assert result.posted.id == str(ours["id"])
    assert 'title="T"' in str(ours["body"])
    assert "accuracy" in str(ours["body"])
    assert "accuracy" in result.report.read_text(encoding="utf-8")
