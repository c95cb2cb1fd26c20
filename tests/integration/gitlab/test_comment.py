"""``cml comment`` against the fake GitLab, end to end through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml.cli import main
from cml.comment import marker
from tests.fakes.gitlab import FakeGitLab, Project
from tests.fakes.http import Fault, Request
from tests.integration.gitlab.conftest import MR_IID

MR = ("merge_requests", MR_IID)


def report(repo: Path, text: str = "# Report\n\naccuracy 0.9\n") -> Path:
    path = repo / "report.md"
    path.write_text(text)
    return path


def update(env: dict[str, str], path: Path, *extra: str) -> int:
    return main(["comment", "update", str(path), *extra], env)


def test_update_creates_then_edits_one_note(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert update(env, report(repo)) == 0
    assert update(env, report(repo, "# Report\n\naccuracy 0.95\n")) == 0
    notes = fake.notes(project, *MR)
    assert len(notes) == 1
    assert "accuracy 0.95" in notes[0]["body"]
    assert notes[0]["author"]["username"] == "project_42_bot"
    out = capsys.readouterr().out.split()
    assert out[-1] == f"{fake.url}/group/project/-/merge_requests/7#note_{notes[0]['id']}"
    # python-gitlab was pointed at the subpath root, and the sticky search reads notes newest first
    listing = fake.calls("GET", r"/merge_requests/7/notes$")[0]
    assert (listing.arg("sort"), listing.arg("order_by"), listing.arg("per_page")) == (
        "desc",
        "created_at",
        "100",
    )


def test_our_note_on_a_later_page_is_updated_not_duplicated(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    for n in range(150):
        fake.add_note(project, *MR, f"chatter {n}", "alice")
        if n == 120:
            ours = fake.add_note(project, *MR, marker("report", "abcdef") + "\nold report", "project_42_bot")
    fake.add_note(project, *MR, "changed the description", "alice", system=True)
    assert update(env, report(repo)) == 0
    notes = fake.notes(project, *MR)
    assert len(notes) == 152
    assert "accuracy 0.9" in ours["body"]
    assert sum("accuracy" in n["body"] for n in notes) == 1
    pages = [r.arg("page") for r in fake.calls("GET", r"/notes$")]
    assert pages == [None]  # newest first: ours is among the newest 100, so page 2 is never read


def test_another_users_note_with_our_marker_is_left_alone(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    theirs = fake.add_note(project, *MR, marker("report", "123456") + "\ncopied", "alice")
    assert update(env, report(repo)) == 0
    notes = fake.notes(project, *MR)
    assert len(notes) == 2
    assert theirs["body"].endswith("copied")
    assert notes[1]["author"]["username"] == "project_42_bot"
    assert not fake.calls("PUT")


def test_each_watermark_title_keeps_its_own_note(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    for round_ in range(2):
        for title in ("train", "eval", "bench"):
            path = report(repo, f"{title} round {round_}\n")
            assert update(env, path, "--watermark-title", title) == 0
    notes = fake.notes(project, *MR)
    assert sorted(n["body"].splitlines()[-1] for n in notes) == [
        "bench round 1",
        "eval round 1",
        "train round 1",
    ]


def test_create_always_adds_a_note(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    for _ in range(2):
        assert main(["comment", "create", str(report(repo))], env) == 0
    assert len(fake.notes(project, *MR)) == 2


@pytest.mark.slow
def test_fifty_updates_leave_one_note(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    for n in range(50):
        assert update(env, report(repo, f"run {n}\n")) == 0
    notes = fake.notes(project, *MR)
    assert len(notes) == 1
    assert notes[0]["body"].endswith("run 49\n")


def test_lost_answer_to_a_create_is_found_not_reposted(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    fake.faults.add("reset_after", method="POST", path=r"/notes$")  # stored, then the connection drops
    fake.faults.add("status", method="POST", path=r"/notes$", status=502)  # not stored, answer 502
    assert update(env, report(repo)) == 0
    assert [k for _, _, k in fake.faults.fired] == ["reset_after"]
    assert len(fake.notes(project, *MR)) == 1
    assert main(["comment", "create", str(report(repo, "second\n"))], env) == 0
    assert len(fake.notes(project, *MR)) == 2  # the 502 was not stored, so it was posted again


def test_retry_after_is_honoured(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sleeps: list[float]
) -> None:
    fake.faults.add("status", method="GET", path=r"/notes$", status=429, headers={"Retry-After": "7"})
    fake.faults.add("status", method="POST", status=503)
    assert update(env, report(repo)) == 0
    assert sleeps[0] == 7.0
    assert len(fake.notes(project, *MR)) == 1


def test_gives_up_with_one_line_after_persistent_5xx(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake.faults.add("status", method="GET", path=r"/notes$", status=500, times=100)
    assert update(env, report(repo)) == 4
    err = capfd.readouterr().err.strip().splitlines()
    assert [line for line in err if "error" in line] == [err[-1]]
    assert err[-1].startswith("cml: error: GET merge_requests/7 notes: gave up after 6 attempts")
    assert "GitLab answered 500" in err[-1]
    assert len(err) == 6  # five one-line retry notices, then the error


@pytest.mark.slow
def test_thirty_percent_faults_over_fifty_updates_leave_one_note(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sleeps: list[float]
) -> None:
    throttled: list[Request] = []

    def fail(req: Request) -> Fault:
        return Fault(kind="status", status=502)

    def throttle(req: Request) -> Fault:
        throttled.append(req)
        return Fault(kind="status", status=429, headers={"Retry-After": "3"})

    def drop(req: Request) -> Fault:
        if req.method == "GET":
            return fail(req)
        return Fault(kind="reset_after")  # writes: stored, then the answer is lost

    fake.faults.random(0.3, [fail, throttle, drop], seed=11)
    for n in range(50):
        assert update(env, report(repo, f"run {n}\n")) == 0, f"run {n}"
    notes = fake.notes(project, *MR)
    assert len(notes) == 1
    assert notes[0]["body"].endswith("run 49\n")
    kinds = [k for _, _, k in fake.faults.fired]
    assert len(kinds) > 60
    assert kinds.count("reset_after") > 5
    assert len(throttled) > 5
    assert sleeps.count(3.0) == len(throttled)  # every 429 waited exactly what Retry-After said


def test_auto_target_finds_the_open_mr_for_the_commit(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, sha: str
) -> None:
    fake.add_mr(project, 9, sha, state="closed")
    fake.add_mr(project, 3, "f" * 40)
    del env["CI_MERGE_REQUEST_IID"]
    assert update(env, report(repo)) == 0
    assert len(fake.notes(project, *MR)) == 1
    assert fake.calls("GET", rf"/repository/commits/{sha}/merge_requests$")


def test_issue_target(fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path) -> None:
    for text in ("one\n", "two\n"):
        assert update(env, report(repo, text), "--target", "issue/5") == 0
    notes = fake.notes(project, "issues", 5)
    assert len(notes) == 1
    assert notes[0]["body"].endswith("two\n")


def test_commit_target_creates_then_edits_a_discussion_note(
    fake: FakeGitLab,
    project: Project,
    env: dict[str, str],
    repo: Path,
    sha: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert update(env, report(repo, "first\n"), "--target", "commit") == 0
    assert update(env, report(repo, "second\n"), "--target", f"commit/{sha}") == 0
    [discussion] = project.discussions[sha]
    [note] = discussion["notes"]
    assert note["body"].endswith("second\n")
    [put] = fake.calls("PUT")
    assert put.path.endswith(f"/repository/commits/{sha}/discussions/{discussion['id']}/notes/{note['id']}")
    assert capsys.readouterr().out.split()[-1] == f"{fake.url}/group/project/-/commit/{sha}#note_{note['id']}"


def test_comments_skip_system_notes_and_keep_order(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    from cml import ci
    from cml.forges import Target, make_forge
    from tests.integration.gitlab.conftest import TOKEN

    for n in range(45):
        fake.add_note(project, *MR, f"note {n}", "alice", system=n % 3 == 0)
    forge = make_forge(ci.detect(env, repo), TOKEN)
    got = list(forge.comments(Target(kind="pr", ref=str(MR_IID))))
    assert [c.body for c in got] == [f"note {n}" for n in range(45) if n % 3]
    assert {c.author for c in got} == {"alice"}


def test_pagination_survives_a_different_external_url(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    fake.external_url = "https://gitlab.example.internal/gitlab"  # behind a proxy: links name another host
    for n in range(130):
        fake.add_note(project, *MR, f"chatter {n}", "alice")
    ours = fake.add_note(project, *MR, marker("report", "abcdef") + "\nold", "project_42_bot")
    assert update(env, report(repo)) == 0
    assert "accuracy 0.9" in ours["body"]
    assert len(fake.notes(project, *MR)) == 131


@pytest.mark.slow
def test_thirty_percent_faults_over_twenty_creates_post_each_exactly_once(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path
) -> None:
    def fail(req: Request) -> Fault:
        return Fault(kind="status", status=503)

    def drop(req: Request) -> Fault:
        return Fault(kind="reset_after")  # a POST lands, then its answer is lost

    fake.faults.random(0.3, [fail, drop], seed=5)
    for n in range(20):
        assert main(["comment", "create", str(report(repo, f"create {n}\n"))], env) == 0, f"run {n}"
    bodies = [note["body"].splitlines()[-1] for note in fake.notes(project, *MR)]
    assert bodies == [f"create {n}" for n in range(20)]
    assert sum(1 for m, p, k in fake.faults.fired if m == "POST" and k == "reset_after") >= 3
