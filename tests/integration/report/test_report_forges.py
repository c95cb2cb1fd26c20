"""``cml report --post``, the stored baseline and ``cml check create`` against the fake GitHub and GitLab.

Every run goes through ``cml.cli.main(argv, env)`` with a GitHub Actions / GitLab CI environment
pointing at a fake forge, in a real git repository (``project``: base on main, head on feature).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cml.cli import main
from cml.report.snapshot import Snapshot, decode_block, encode_block
from tests.conftest import git
from tests.fakes import plots as standin
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab, Project
from tests.fakes.http import Fault, Request
from tests.integration.github.conftest import _check, openapi_checker  # noqa: F401 (a fixture)
from tests.integration.github.openapi import Checker
from tests.integration.report.conftest import commit_all, write

REPO = "acme/app"
GH_TOKEN = "tok-ada-5f1e9c0b7d2a4e6f"
GH_BOT = "ghs_InstallationTokenForActions0001"
GL_TOKEN = "glpat-Zq8sK2vXw9LmN4pR7tYb"
PR = 7
FLAGS = ("--metrics", "metrics.json", "--params", "params.yaml")
PLOT = ("--plot", "train.csv:epoch:acc")


@pytest.fixture
def gh(openapi_checker: Checker | None) -> Iterator[FakeGitHub]:  # noqa: F811
    """A fake GitHub with ``acme/app``, a user PAT (``ada``) and an Actions token; OpenAPI-checked after."""
    with FakeGitHub() as server:
        server.add_repo(REPO)
        server.add_token(GH_TOKEN, "ada")
        server.add_token(GH_BOT, "", kind="installation")
        server.add_token("tok-mallory-000000000000", "mallory")
        yield server
    _check(openapi_checker, server)


def gh_env(
    fake: FakeGitHub, tmp: Path, *, head: str, base: str | None, token: str = GH_TOKEN
) -> dict[str, str]:
    """Actions variables: a ``pull_request`` run for PR #7 (head→base) when ``base``, else a push."""
    event = tmp / f"event-{head[:7]}.json"
    if base is None:
        payload: dict[str, Any] = {"ref": "refs/heads/main", "after": head}
    else:
        pull = {"number": PR, "head": {"sha": head, "ref": "feature", "repo": {"full_name": REPO}}}
        pull["base"] = {"sha": base, "ref": "main", "repo": {"full_name": REPO}}
        payload = {"action": "synchronize", "number": PR, "pull_request": pull}
    event.write_text(json.dumps(payload))
    summary = tmp / "step_summary.md"
    summary.touch()
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_API_URL": fake.url,
        "GITHUB_SERVER_URL": fake.html_root,
        "GITHUB_EVENT_NAME": "push" if base is None else "pull_request",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": head if base is None else "b" * 40,  # a PR run's GITHUB_SHA is the merge commit
        "GITHUB_WORKFLOW": "train",
        "GITHUB_STEP_SUMMARY": str(summary),
        "REPO_TOKEN": token,
    }


def run(*argv: str, env: dict[str, str]) -> int:
    return main(list(argv), env)


def shas(root: Path) -> tuple[str, str]:
    return git(root, "rev-parse", "main"), git(root, "rev-parse", "HEAD")


def pr_comments(fake: FakeGitHub) -> list[dict[str, Any]]:
    return [c for c in fake.repos[REPO].issue_comments if c["_issue"] == PR]


# ---- 1. PR run on GitHub -------------------------------------------------------------------------


def test_github_pr_report_is_one_sticky_comment_with_content_addressed_assets(
    project: Path, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.install(monkeypatch)
    base, head = shas(project)
    gh.add_pr(REPO, PR, head)
    env = gh_env(gh, tmp_path, head=head, base=base)
    assert run("report", *FLAGS, *PLOT, "--post", env=env) == 0
    write(project, {"metrics.json": json.dumps({"accuracy": 0.95, "loss": 0.2, "eval": {"f1": 0.8}})})
    write(project, {"train.csv": "epoch,acc\n1,0.6\n2,0.9\n3,0.95\n"})
    assert run("report", *FLAGS, *PLOT, "--post", env=env) == 0

    [comment] = pr_comments(gh)
    writes = [(r.method, r.path) for r in gh.writes() if "comments" in r.path]
    assert writes == [
        ("POST", f"/repos/{REPO}/issues/{PR}/comments"),
        ("PATCH", f"/repos/{REPO}/issues/comments/{comment['id']}"),
    ]
    body = comment["body"]
    assert "| accuracy | 0.9    | 0.95   | ↑ +0.05 🟢 | +5.56% |" in body
    assert decode_block(body) == (head, _snapshot(body))
    [link] = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", body)
    repo = gh.repos[REPO]
    tip = repo.refs["heads/cml-assets"]
    name = link.rsplit("/", 1)[1].split("?")[0]
    assert link.startswith(f"{gh.html_root}/{REPO}/")
    # by branch and content hash: `cml assets gc` rewrites the branch, which unpins every commit
    assert link == f"{gh.html_root}/{REPO}/blob/cml-assets/{name}?raw=true"
    assert re.fullmatch(r"[0-9a-f]{64}\.png", name)
    blob = repo.trees[repo.commits[tip]["tree"]][name]
    figure = json.loads(repo.blobs[blob][len(standin.PNG) :])
    assert figure["title"] == "acc by epoch"
    assert "0.95" in json.dumps(figure)  # the second push's data
    assert len(repo.commits) == 2  # one assets commit per distinct image set


def _snapshot(body: str) -> Snapshot:
    decoded = decode_block(body)
    assert decoded is not None
    return decoded[1]


# ---- 2. stored baseline on GitHub ----------------------------------------------------------------


def built(repo: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``repo`` whose metrics are a gitignored build output; main's metrics written; cwd = repo."""
    (repo / ".gitignore").write_text(".cml/\ncml-report/\nmetrics.json\n")
    write(repo, {"params.yaml": "lr: 0.1\n", "train.py": "print(0)\n"})
    commit_all(repo, "ignore build outputs")
    write(repo, {"metrics.json": json.dumps({"accuracy": 0.9, "loss": 0.3})})
    monkeypatch.chdir(repo)
    return git(repo, "rev-parse", "HEAD")


def branch(repo: Path) -> str:
    """A feature commit on top of main with new (uncommitted) metrics; its sha."""
    git(repo, "checkout", "-q", "-b", "feature")
    write(repo, {"train.py": "print(1)\n", "params.yaml": "lr: 0.05\n"})
    head = commit_all(repo, "change")
    write(repo, {"metrics.json": json.dumps({"accuracy": 0.93, "loss": 0.25})})
    return head


def forged(sha: str, title: str = "CML report") -> str:
    """A comment body shaped like cml's sticky report claiming accuracy 0.1 on ``sha``."""
    block = encode_block(Snapshot(metrics={"accuracy": 0.1, "loss": 9.0}, params={}), sha)
    return f'<!-- cml:sticky title="{title}" run="000000000000" -->\n{block}\n## {title}\n'


@pytest.mark.parametrize(
    ("token", "login"), [(GH_TOKEN, "ada"), (GH_BOT, "github-actions[bot]")], ids=["pat", "actions"]
)
def test_github_stored_baseline_from_the_push_run_on_main(
    repo: Path,
    gh: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: Any,
    token: str,
    login: str,
) -> None:
    base = built(repo, monkeypatch)
    push = gh_env(gh, tmp_path, head=base, base=None, token=token)
    assert run("report", *FLAGS, "--post", env=push) == 0
    [stored] = gh.repos[REPO].commit_comments
    assert stored["_sha"] == base
    assert stored["user"]["login"] == login
    # Someone else, later, drops a forged data block (even with cml's marker) on the base commit.
    _post_commit_comment(gh, base, forged(base), token="tok-mallory-000000000000")
    head = branch(repo)
    gh.add_pr(REPO, PR, head)
    capsys.readouterr()
    pull = gh_env(gh, tmp_path, head=head, base=base, token=token)
    assert run("report", *FLAGS, "--post", "--json", env=pull) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["baseline"] == base
    report = (repo / "cml-report" / "report.md").read_text()
    assert "(metrics from the report stored on that commit)" in report
    assert "| accuracy | 0.9    | 0.93   | ↑ +0.03 🟢 | +3.33% |" in report
    assert "| loss     | 0.3    | 0.25   | ↓ -0.05 🟢 | -16.7% |" in report
    [comment] = pr_comments(gh)
    assert "+0.03" in comment["body"]


def _post_commit_comment(fake: FakeGitHub, sha: str, body: str, *, token: str) -> None:
    """Comment on ``sha`` through the fake's API as the user ``token`` belongs to."""
    import urllib.request

    req = urllib.request.Request(
        f"{fake.url}/repos/{REPO}/commits/{sha}/comments",
        data=json.dumps({"body": body}).encode(),
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req) as answer:
        assert answer.status == 201


# ---- 3. the same on GitLab (under /gitlab) -------------------------------------------------------


@pytest.fixture
def gl() -> Iterator[FakeGitLab]:
    """A fake GitLab under ``/gitlab`` with a project bot (GL_TOKEN) and ``alice``."""
    with FakeGitLab() as server:
        server.add_user("project_42_bot", GL_TOKEN, bot=True)
        server.add_user("alice", "glpat-OtherUser000000000000")
        yield server


def gl_env(fake: FakeGitLab, project: Project, *, head: str, base: str | None) -> dict[str, str]:
    """GitLab CI variables: an MR pipeline for !7 (head→base) when ``base``, else a branch pipeline."""
    env = {
        "GITLAB_CI": "true",
        "CI_SERVER_URL": fake.url,
        "CI_API_V4_URL": fake.api,
        "CI_PROJECT_ID": str(project.id),
        "CI_PROJECT_PATH": project.path,
        "CI_COMMIT_SHA": head,
        "CI_JOB_NAME": "report",
        "REPO_TOKEN": GL_TOKEN,
    }
    if base is not None:
        env.update(
            CI_MERGE_REQUEST_IID=str(PR),
            CI_MERGE_REQUEST_DIFF_BASE_SHA=base,
            CI_MERGE_REQUEST_TARGET_BRANCH_NAME="main",
        )
    return env


def test_gitlab_mr_report_is_one_sticky_note_with_uploads(
    project: Path, gl: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    standin.install(monkeypatch)
    base, head = shas(project)
    proj = gl.add_project("group/project", 42)
    gl.add_mr(proj, PR, head)
    env = gl_env(gl, proj, head=head, base=base)
    assert run("report", *FLAGS, *PLOT, "--post", env=env) == 0
    write(project, {"metrics.json": json.dumps({"accuracy": 0.95, "loss": 0.2, "eval": {"f1": 0.8}})})
    assert run("report", *FLAGS, *PLOT, "--post", env=env) == 0
    [note] = gl.notes(proj, "merge_requests", PR)
    writes = [(r.method, r.path.rsplit("/", 2)[-2]) for r in gl.requests if r.method != "GET"]
    assert [w for w in writes if w[1] != "42"] == [("POST", "7"), ("PUT", "notes")]
    assert "| accuracy | 0.9    | 0.95   | ↑ +0.05 🟢 | +5.56% |" in note["body"]
    [link] = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", note["body"])
    assert re.fullmatch(r"/uploads/[0-9a-f]+/plot-1-[0-9a-f]{32}\.png", link), link  # named by content
    assert [u["url"] for u in proj.uploads] == [link]  # the same plot again: reused, not uploaded twice
    assert json.loads(proj.uploads[-1]["content"][len(standin.PNG) :])["title"] == "acc by epoch"


def test_gitlab_stored_baseline_from_the_branch_pipeline(
    repo: Path, gl: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = built(repo, monkeypatch)
    proj = gl.add_project("group/project", 42)
    proj.commits.add(base)
    assert run("report", *FLAGS, "--post", env=gl_env(gl, proj, head=base, base=None)) == 0
    [disc] = proj.discussions[base]
    assert disc["notes"][0]["author"]["username"] == "project_42_bot"
    alice = next(u for u, _ in gl.tokens.values() if u["username"] == "alice")
    forgery = {
        "id": "f" * 40,
        "individual_note": True,
        "notes": [gl._note(alice, forged(base), "commit", base)],
    }
    proj.discussions[base].append(forgery)
    head = branch(repo)
    gl.add_mr(proj, PR, head)
    assert run("report", *FLAGS, "--post", env=gl_env(gl, proj, head=head, base=base)) == 0
    report = (repo / "cml-report" / "report.md").read_text()
    assert f"`{base[:7]}`, the merge-base with main (metrics from the report stored on that commit)" in report
    assert "| accuracy | 0.9    | 0.93   | ↑ +0.03 🟢 | +3.33% |" in report
    assert "| loss     | 0.3    | 0.25   | ↓ -0.05 🟢 | -16.7% |" in report
    [note] = gl.notes(proj, "merge_requests", PR)
    assert "+0.03" in note["body"]


# ---- 4. the gate, then a check run / commit status -----------------------------------------------

GATE = ("--fail-on", "accuracy < -0.01")


def test_github_gate_fails_after_posting_then_check_run_on_the_pr_head(
    project: Path, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    base, head = shas(project)
    gh.add_pr(REPO, PR, head)
    env = gh_env(gh, tmp_path, head=head, base=base, token=GH_BOT)
    assert run("report", *FLAGS, *GATE, "--post", env=env) == 8
    assert "gate failed: accuracy < -0.01" in capsys.readouterr().err
    [comment] = pr_comments(gh)
    assert comment["user"]["login"] == "github-actions[bot]"
    assert "❌ **Gate failed:** `accuracy < -0.01` (Δ -0.03)" in comment["body"]
    report = project / "cml-report" / "report.md"
    assert "❌ **Gate failed:**" in report.read_text()
    assert "❌ **Gate failed:**" in Path(env["GITHUB_STEP_SUMMARY"]).read_text()

    assert run("check", "create", "cml-report/report.md", "--conclusion", "failure", env=env) == 0
    [check] = gh.repos[REPO].check_runs
    assert check["head_sha"] == head != env["GITHUB_SHA"]
    assert check["conclusion"] == "failure"
    assert check["output"]["summary"] == report.read_text()
    assert check["output"]["title"] == "CML report"

    # A report over the check run's 65,535 characters is cut, with a note.
    report.write_text("# CML report\n\n" + "| row | 0.123456789 |\n" * 5000)
    assert run("check", "create", "cml-report/report.md", "--conclusion", "failure", env=env) == 0
    summary = gh.repos[REPO].check_runs[-1]["output"]["summary"]
    assert len(summary) <= 65_535
    assert "Cut by" in summary
    assert summary.startswith("# CML report\n\n| row |")


def test_github_user_token_falls_back_to_a_commit_status(
    project: Path, gh: FakeGitHub, tmp_path: Path
) -> None:
    base, head = shas(project)
    gh.add_pr(REPO, PR, head)
    env = gh_env(gh, tmp_path, head=head, base=base)
    (project / "long.md").write_text("# " + "gate failed because accuracy dropped " * 10 + "\n\nbody\n")
    assert run("check", "create", "long.md", "--conclusion", "failure", env=env) == 0
    refused = [r for r, reply in gh.exchanges if r.path.endswith("/check-runs")]
    assert len(refused) == 1
    assert gh.repos[REPO].check_runs == []
    [status] = gh.repos[REPO].statuses
    assert status["sha"] == head
    assert status["state"] == "failure"
    assert status["context"] == "cml"
    assert 0 < len(status["description"]) <= 140
    assert status["description"].startswith("gate failed because accuracy dropped")


def test_gitlab_gate_then_commit_status(project: Path, gl: FakeGitLab, capsys: Any) -> None:
    base, head = shas(project)
    proj = gl.add_project("group/project", 42)
    gl.add_mr(proj, PR, head)
    env = gl_env(gl, proj, head=head, base=base)
    assert run("report", *FLAGS, *GATE, "--post", env=env) == 8
    [note] = gl.notes(proj, "merge_requests", PR)
    assert "❌ **Gate failed:** `accuracy < -0.01` (Δ -0.03)" in note["body"]
    capsys.readouterr()
    assert run("check", "create", "cml-report/report.md", "--conclusion", "failure", env=env) == 0
    [status] = proj.statuses[head]
    assert status["status"] == "failed"
    assert status["name"] == "cml"
    assert status["description"] == "CML report"


# ---- 5. the size budget --------------------------------------------------------------------------


def test_github_comment_over_the_limit_drops_plots_first(
    project: Path, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    standin.install(monkeypatch)
    base, head = shas(project)
    gh.add_pr(REPO, PR, head)
    names = [f"acc_{i:02d}_" + "x" * 1200 for i in range(60)]
    rows = "\n".join(",".join([str(e), *(str(e / 10) for _ in names)]) for e in range(3))
    write(project, {"wide.csv": "epoch," + ",".join(names) + "\n" + rows + "\n"})
    plots = [a for n in names for a in ("--plot", f"wide.csv:epoch:{n}")]
    env = gh_env(gh, tmp_path, head=head, base=base)
    assert run("report", *FLAGS, *plots, "--post", "--json", env=env) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["dropped"] == ["Plots"]
    assert out["plots"] == 60
    [comment] = pr_comments(gh)
    body = comment["body"]
    assert len(body) <= 65_536
    assert "Dropped to fit the size limit: Plots (see the job summary / the report artifact)" in body
    assert "### Metrics" in body  # higher priorities kept
    assert "### Params" in body
    assert "### Plots" not in body
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert len(summary) > 65_536
    assert all(n in summary for n in names)
    assert "### Plots" in (project / "cml-report" / "report.md").read_text()


# ---- 6. faults -----------------------------------------------------------------------------------


def _faults(rng: random.Random) -> list[Any]:
    def fail(req: Request) -> Fault:
        return Fault("status", status=rng.choice([500, 502, 503]))

    def throttle(req: Request) -> Fault:
        return Fault("status", status=429, headers={"Retry-After": "2"})

    def drop(req: Request) -> Fault:
        return Fault("reset_after")  # a write lands, then its answer is lost

    return [fail, throttle, drop]


TRAIN = [f"epoch,acc\n1,0.{n}\n2,0.8\n" for n in (1, 2, 3)]


def test_github_report_under_thirty_percent_faults(
    project: Path, gh: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    standin.install(monkeypatch)
    base, head = shas(project)
    gh.add_pr(REPO, PR, head)
    env = gh_env(gh, tmp_path, head=head, base=base)
    gh.faults.random(0.3, _faults(random.Random(4)), seed=11)
    for i in range(10):
        write(
            project, {"train.csv": TRAIN[i % 3], "metrics.json": json.dumps({"accuracy": i / 10, "loss": 1})}
        )
        assert run("report", *FLAGS, *PLOT, "--post", env=env) == 0, i
    gh.faults.clear()
    assert len(gh.faults.fired) > 20
    assert sleeps.count(2.0) > 0
    [comment] = pr_comments(gh)
    assert decode_block(comment["body"]) is not None
    assert _snapshot(comment["body"]).metrics["accuracy"] == 0.9
    repo = gh.repos[REPO]
    chain, sha = [], repo.refs["heads/cml-assets"]
    while sha:
        chain.append(sha)
        parents = repo.commits[sha]["parents"]
        sha = parents[0] if parents else ""
    assert len(chain) == 3  # one assets commit per distinct image set
    assert len(repo.trees[repo.commits[chain[0]]["tree"]]) == 3


def test_gitlab_report_under_thirty_percent_faults(
    project: Path, gl: FakeGitLab, monkeypatch: pytest.MonkeyPatch, sleeps: list[float]
) -> None:
    standin.install(monkeypatch)
    base, head = shas(project)
    proj = gl.add_project("group/project", 42)
    gl.add_mr(proj, PR, head)
    env = gl_env(gl, proj, head=head, base=base)
    gl.faults.random(0.3, _faults(random.Random(4)), seed=11)
    for i in range(10):
        write(project, {"metrics.json": json.dumps({"accuracy": i / 10, "loss": 1})})
        assert run("report", *FLAGS, *PLOT, "--post", env=env) == 0, i
    gl.faults.clear()
    assert len(gl.faults.fired) > 10
    [note] = gl.notes(proj, "merge_requests", PR)
    assert _snapshot(note["body"]).metrics["accuracy"] == 0.9


# ---- 7. the token never shows ----------------------------------------------------------------------


def _quiet(capfd: pytest.CaptureFixture[str], tokens: tuple[str, ...], *roots: Path) -> str:
    """Captured stderr; no token in the output or any markdown written, but the ``::add-mask::`` line
    (a command the Actions runner swallows: it masks the value in every later line)."""
    out, err = capfd.readouterr()
    lines = (out + err).splitlines() + [p.read_text() for r in roots for p in r.rglob("*.md")]
    shown = [line for line in lines if not line.startswith("::add-mask::")]
    for token in tokens:
        assert not [line for line in shown if token in line]
    return err


@pytest.mark.parametrize("debug", [(), ("--debug",)], ids=["plain", "debug"])
def test_github_token_never_in_output(
    project: Path,
    gh: FakeGitHub,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    debug: tuple[str, ...],
) -> None:
    standin.install(monkeypatch)
    base, head = shas(project)
    gh.add_pr(REPO, PR, head)
    env = gh_env(gh, tmp_path, head=head, base=base)
    gh.faults.add("status", status=502, path="/issues/")  # a retried call is logged too
    assert run(*debug, "report", *FLAGS, *PLOT, *GATE, "--post", env=env) == 8
    assert run(*debug, "check", "create", "cml-report/report.md", "--conclusion", "failure", env=env) == 0
    err = _quiet(capfd, (GH_TOKEN,), project, tmp_path)
    assert "gate failed" in err
    if debug:
        assert "/issues/7/comments" in err  # --debug logs each call, redacted
    env["REPO_TOKEN"] = "tok-revoked-7f7f7f7f7f7f"  # a token the fake does not know: 401
    assert run(*debug, "report", *FLAGS, "--post", env=env) != 0
    err = _quiet(capfd, ("tok-revoked-7f7f7f7f7f7f",), project, tmp_path)
    assert "GitHub rejected the token" in err


@pytest.mark.parametrize("debug", [(), ("--debug",)], ids=["plain", "debug"])
def test_gitlab_token_never_in_output(
    project: Path,
    gl: FakeGitLab,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    debug: tuple[str, ...],
) -> None:
    standin.install(monkeypatch)
    base, head = shas(project)
    proj = gl.add_project("group/project", 42)
    gl.add_mr(proj, PR, head)
    env = gl_env(gl, proj, head=head, base=base)
    assert run(*debug, "report", *FLAGS, *PLOT, *GATE, "--post", env=env) == 8
    assert run(*debug, "check", "create", "cml-report/report.md", "--conclusion", "failure", env=env) == 0
    _quiet(capfd, (GL_TOKEN,), project)
    gl.revoke(GL_TOKEN)
    assert run(*debug, "report", *FLAGS, "--post", env=env) != 0
    assert "GitLab rejected the token" in _quiet(capfd, (GL_TOKEN,), project)


# ---- the real renderer ---------------------------------------------------------------------------


@pytest.mark.slow
def test_github_report_with_chromium_uploads_real_pngs(project: Path, gh: FakeGitHub, tmp_path: Path) -> None:
    base, head = shas(project)
    gh.add_pr(REPO, PR, head)
    env = gh_env(gh, tmp_path, head=head, base=base)
    assert run("report", *FLAGS, *PLOT, "--confusion", "preds.csv:actual:predicted", "--post", env=env) == 0
    [comment] = pr_comments(gh)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", comment["body"])
    links += re.findall(r'<img src="([^"]+)"', comment["body"])  # the base and head confusion matrices
    assert len(links) == 3
    repo = gh.repos[REPO]
    tree = repo.trees[repo.commits[repo.refs["heads/cml-assets"]]["tree"]]
    for link in links:
        data = repo.blobs[tree[link.rsplit("/", 1)[1].removesuffix("?raw=true")]]
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(data) > 5000  # a real drawing, not a stand-in
        assert "/blob/cml-assets/" in link  # by branch: gc may drop the commits
