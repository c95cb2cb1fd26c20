"""The fork-safe post workflow (``workflow_run``) finds its fork PR although GitHub names none.

For a run from a fork, ``workflow_run.pull_requests`` is empty and ``GET commits/{sha}/pulls`` does not
find the fork's commit: cml asks ``GET pulls?head=<fork owner>:<branch>&state=open`` and keeps the PR
whose head is the run's ``head_sha``. Payloads come from :mod:`tests.fakes.github_events`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fakes.github import FakeGitHub
from tests.fakes.github_events import workflow_run
from tests.integration.github.conftest import BOT_TOKEN, PR, REPO, Cml, actions_env
from tests.leaks import leaks, without_masks

EVE_SHA = "e" * 40
BOB_SHA = "f" * 40
DEFAULT_BRANCH_SHA = "9" * 40  # GITHUB_SHA of a workflow_run: the default branch's last commit


def _post_env(fake: FakeGitHub, tmp_path: Path, payload: dict[str, object]) -> dict[str, str]:
    """The fork-safe post job's environment: a ``workflow_run`` event, the base repository's token."""
    path = tmp_path / f"workflow_run-{len(list(tmp_path.glob('workflow_run-*')))}.json"
    path.write_text(json.dumps(payload))
    return actions_env(
        fake,
        tmp_path,
        token=BOT_TOKEN,
        GITHUB_EVENT_NAME="workflow_run",
        GITHUB_EVENT_PATH=str(path),
        GITHUB_SHA=DEFAULT_BRANCH_SHA,
        GITHUB_WORKFLOW="cml fork-safe post",
    )


def _forks(fake: FakeGitHub, branch: str = "feature") -> None:
    """Two forks with open PRs from branches of the same name: eve's #12 and bob's #13."""
    fake.add_repo("eve/app", fork=True)
    fake.add_repo("bob/app", fork=True)
    fake.add_pr(REPO, 12, EVE_SHA, head_repo="eve/app", head_ref=branch)
    fake.add_pr(REPO, 13, BOB_SHA, head_repo="bob/app", head_ref=branch)


def _on(fake: FakeGitHub, number: int) -> list[dict[str, object]]:
    return [c for c in fake.repos[REPO].issue_comments if c["_issue"] == number]


@pytest.mark.parametrize(
    ("fork", "sha", "number", "branch"),
    [
        ("eve/app", EVE_SHA, 12, "feature"),
        ("bob/app", BOB_SHA, 13, "feature"),
        ("eve/app", EVE_SHA, 12, "feat/a&b=c+d"),  # a branch name that must be query-encoded
    ],
)
def test_fork_pr_comment_lands_on_its_pr(
    fake: FakeGitHub,
    tmp_path: Path,
    cml: Cml,
    report: Path,
    capfd: pytest.CaptureFixture[str],
    fork: str,
    sha: str,
    number: int,
    branch: str,
) -> None:
    _forks(fake, branch)
    payload = workflow_run(fake, REPO, head_repo=fork, head_branch=branch, head_sha=sha)
    assert payload["workflow_run"]["pull_requests"] == []  # what GitHub sends for a fork
    env = _post_env(fake, tmp_path, payload)
    assert cml("comment", "update", str(report), "--watermark-title", "Training report", env=env) == 0
    out = capfd.readouterr()
    [comment] = _on(fake, number)
    assert "acc | 0.91" in str(comment["body"])
    others = [c for c in fake.repos[REPO].issue_comments if c["_issue"] != number]
    assert others == []
    assert fake.repos[REPO].commit_comments == []
    [lookup] = fake.calls("GET", rf"^/repos/{REPO}/pulls$")
    assert lookup.query == {
        "head": [f"{fork.partition('/')[0]}:{branch}"],
        "state": ["open"],
        "per_page": ["100"],
    }
    assert not fake.calls("GET", r"/commits/.*/pulls$")
    assert f"/pull/{number}#issuecomment-" in out.out
    assert not leaks(without_masks(out.out + out.err), BOT_TOKEN)


def test_a_pr_whose_head_moved_on_is_not_chosen(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """eve pushed again after the build: PR #12's head is no longer the commit the report is about."""
    _forks(fake)
    fake.repos[REPO].prs[12].head_sha = "1" * 40
    payload = workflow_run(fake, REPO, head_repo="eve/app", head_branch="feature", head_sha=EVE_SHA)
    env = _post_env(fake, tmp_path, payload)
    assert cml("comment", "update", str(report), env=env) == 0
    [comment] = fake.repos[REPO].commit_comments
    assert comment["_sha"] == EVE_SHA
    assert fake.repos[REPO].issue_comments == []
    assert f"/commit/{EVE_SHA}#commitcomment-" in capfd.readouterr().out


def test_no_open_pr_falls_back_to_the_commit_or_is_one_line_for_target_pr(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    _forks(fake)
    fake.repos[REPO].prs[12].state = "closed"
    payload = workflow_run(fake, REPO, head_repo="eve/app", head_branch="feature", head_sha=EVE_SHA)
    env = _post_env(fake, tmp_path, payload)
    assert cml("comment", "update", str(report), "--target", "pr", env=env) == 2
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("cml: ")]
    assert lines == [f"cml: error: --target pr: no open pull/merge request has head {EVE_SHA}"], err
    assert fake.writes() == []
    assert cml("comment", "update", str(report), env=env) == 0  # auto: the commit
    [comment] = fake.repos[REPO].commit_comments
    assert comment["_sha"] == EVE_SHA
    assert fake.repos[REPO].issue_comments == []
    assert not leaks(without_masks(err + capfd.readouterr().out), BOT_TOKEN)


def test_same_repository_run_takes_the_pr_from_the_payload(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path
) -> None:
    """A PR from a branch of the base repository: GitHub names it in ``pull_requests``; no lookup."""
    payload = workflow_run(fake, REPO, head_repo=REPO, head_branch="feature", head_sha="a" * 40)
    assert [p["number"] for p in payload["workflow_run"]["pull_requests"]] == [PR]
    env = _post_env(fake, tmp_path, payload)
    assert cml("comment", "update", str(report), env=env) == 0
    assert len(_on(fake, PR)) == 1
    assert not fake.calls("GET", rf"^/repos/{REPO}/pulls$")


def test_a_same_named_base_branch_in_pull_requests_is_not_taken(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path
) -> None:
    """``pull_requests`` matches on head branch *or* sha: the base repository's own ``feature`` PR (#7,
    another head sha) shows up for a run of eve's ``feature``; the comment still goes to eve's #12."""
    _forks(fake)
    payload = workflow_run(fake, REPO, head_repo=REPO, head_branch="feature", head_sha=EVE_SHA)
    payload["workflow_run"]["head_repository"] = workflow_run(  # eve's run, listed like a base-branch one
        fake, REPO, head_repo="eve/app", head_branch="feature", head_sha=EVE_SHA
    )["workflow_run"]["head_repository"]
    assert [p["number"] for p in payload["workflow_run"]["pull_requests"]] == [PR]
    env = _post_env(fake, tmp_path, payload)
    assert cml("comment", "update", str(report), env=env) == 0
    assert len(_on(fake, 12)) == 1
    assert _on(fake, PR) == []
    assert _on(fake, 13) == []


def test_train_report_template_leaves_fork_prs_to_the_fork_safe_pair_like_our_ci() -> None:
    """The one-workflow template would fail on a fork PR (read-only token): it skips them with our CI's guard."""
    import yaml

    root = Path(__file__).resolve().parents[3]
    ours = yaml.safe_load((root / ".github" / "workflows" / "ci.yml").read_text())["jobs"]["dogfood"]["if"]
    template = yaml.safe_load((root / "workflow-templates" / "train-report.yml").read_text())
    assert "github.event.pull_request.head.repo.full_name == github.repository" in ours
    assert [job.get("if") for job in template["jobs"].values()] == [ours]
