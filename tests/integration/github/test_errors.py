"""Faults, refusals and bad input: one-line errors, no token in any output, nothing posted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import (
    PR,
    READONLY_TOKEN,
    REPO,
    USER_TOKEN,
    Cml,
    actions_env,
)


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("cml: ")]
    assert len(lines) == 1, err
    return lines[0]


def test_lost_answer_to_a_new_comment_is_found_not_reposted(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    fake.faults.add("reset_after", method="POST", path=r"/comments$", times=2)
    fake.faults.add("status", method="POST", path=r"/comments$", status=502)
    assert cml("comment", "update", str(report), env=env) == 0
    posted = [c for c in fake.repos[REPO].issue_comments if c["_issue"] == PR]
    assert len(posted) == 1
    assert len(fake.calls("POST")) == 1  # the re-read found it; no second POST


def test_502_on_post_is_checked_then_retried(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    fake.faults.add("status", method="POST", path=r"/comments$", status=502, times=2)
    assert cml("comment", "create", str(report), env=env) == 0
    assert len(fake.repos[REPO].issue_comments) == 1
    assert len(fake.calls("GET", r"/comments$")) == 2  # looked before each new POST


def test_fork_pr_read_only_token_names_the_two_workflow_pattern(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from tests.integration.github.conftest import event_file

    env = actions_env(
        fake, tmp_path, token=READONLY_TOKEN, GITHUB_EVENT_PATH=str(event_file(tmp_path, head_repo="eve/app"))
    )
    code = cml("comment", "update", str(report), env=env)
    line = _error_line(capfd.readouterr().err)
    assert code == 5
    assert "workflow_run" in line
    assert "pull_request" in line
    assert "fork-safe" in line
    assert not fake.repos[REPO].issue_comments


def test_missing_permission_is_named(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, token=READONLY_TOKEN)  # same-repo PR, read-only token
    assert cml("comment", "update", str(report), env=env) == 5
    line = _error_line(capfd.readouterr().err)
    assert "pull-requests: write" in line
    assert "Resource not accessible by integration" in line


def test_revoked_token(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, token="tok-revoked-0123456789")
    assert cml("comment", "update", str(report), env=env) == 5
    captured = capfd.readouterr()
    line = _error_line(captured.err)
    assert "GitHub rejected the token (revoked or expired?)" in line
    assert "tok-revoked-0123456789" not in captured.out
    assert "tok-revoked-0123456789" not in captured.err.replace("::add-mask::tok-revoked-0123456789", "", 1)


def test_unknown_repo_names_repo_and_api(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    env = actions_env(fake, tmp_path, GITHUB_REPOSITORY="acme/gone")
    assert cml("comment", "create", str(report), env=env) == 4
    line = _error_line(capfd.readouterr().err)
    assert "acme/gone" in line
    assert fake.url in line


@pytest.mark.parametrize("debug", [[], ["--debug"]])
@pytest.mark.parametrize("token", [USER_TOKEN, "tok-revoked-0123456789"])
def test_token_never_printed_but_masked_first(
    fake: FakeGitHub,
    tmp_path: Path,
    cml: Cml,
    report: Path,
    capfd: pytest.CaptureFixture[str],
    debug: list[str],
    token: str,
) -> None:
    env = actions_env(fake, tmp_path, token=token)
    fake.faults.add("status", method="GET", status=503)
    cml(*debug, "comment", "update", str(report), env=env)
    captured = capfd.readouterr()
    assert captured.err.splitlines()[0] == f"::add-mask::{token}"  # on stderr: stdout stays clean for --json
    rest = captured.err.split("\n", 1)[1] + captured.out
    assert token not in rest
    if debug:
        assert "GET" in captured.err  # the debug log did run


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["comment", "update", "missing.md"], "missing.md: no such file"),
        (["comment", "update", "blob.bin"], "is a binary file"),
        (["comment", "update", "report.md", "--target", "nowhere/3"], "--target 'nowhere/3'"),
        (["comment", "update", "svg.md"], "GitHub does not render SVG"),
        (["publish", "missing.png"], "missing.png: no such file"),
    ],
)
def test_bad_input_posts_nothing(
    fake: FakeGitHub,
    env: dict[str, str],
    cml: Cml,
    report: Path,
    capfd: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    (report.parent / "blob.bin").write_bytes(b"\x89PNG\0\0")
    (report.parent / "plot.svg").write_text("<svg/>")
    (report.parent / "svg.md").write_text("# plot\n\n![p](plot.svg)\n")
    assert cml(*argv, env=env) != 0
    assert message in _error_line(capfd.readouterr().err)
    assert not fake.writes()


def test_dry_run_sends_nothing(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert cml("comment", "update", str(report), "--dry-run", env=env) == 0
    assert not fake.requests
    assert f"pr/{PR}" in capfd.readouterr().out


def test_long_report_is_cut_and_kept_in_the_job_summary(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    sections = [f"## part {i}\n\n" + ("x" * 990 + "\n") * 4 for i in range(20)]
    report.write_text("# big\n\n" + "\n".join(sections))
    assert cml("comment", "update", str(report), env=env) == 0
    [posted] = fake.repos[REPO].issue_comments
    assert len(str(posted["body"])) <= 65536
    assert "This report was cut by" in str(posted["body"])
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().count("## part 19") == 1


def test_dropped_before_storing_is_posted_again(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    fake.faults.add("reset_before", method="POST", path=r"/comments$", times=2)
    assert cml("comment", "create", str(report), env=env) == 0
    assert len(fake.repos[REPO].issue_comments) == 1
    assert len(fake.calls("POST")) == 1  # the two dropped tries never reached the routes
    assert [k for _, _, k in fake.faults.fired] == ["reset_before", "reset_before"]


def test_unreachable_api_names_the_host(
    tmp_path: Path, cml: Cml, report: Path, capfd: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    with FakeGitHub() as gone:
        env = actions_env(gone, tmp_path)
    # The server is stopped: every connection is refused.
    assert cml("comment", "update", str(report), env=env) == 4
    line = _error_line(capfd.readouterr().err)
    assert f"no answer from {env['GITHUB_API_URL']} (ConnectionError)" in line
    assert "gave up after 6 attempts" in line
    assert len(sleeps) == 5


def test_a_2mb_report_uploads_only_the_images_the_comment_can_hold(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, report: Path
) -> None:
    """Images are looked for in the part that fits the 65,536 characters: the rest is neither parsed
    nor uploaded, so a 2 MB report costs what a 65 kB one does."""
    from tests.integration.local.test_cli_local import png

    for i in range(40):
        png(report.parent / f"p{i}.png", (i, 0, 0))
    filler = ("lorem ipsum " * 80 + "\n") * 50  # ~48 kB a section: the first one fits, the second does not
    sections = [f"## part {i}\n\n![p{i}](p{i}.png)\n\n{filler}" for i in range(40)]
    report.write_text("# big\n\n" + "\n".join(sections))
    assert report.stat().st_size > 1_900_000
    assert cml("comment", "update", str(report), env=env) == 0
    [posted] = fake.repos[REPO].issue_comments
    body = str(posted["body"])
    assert len(body) <= 65536
    assert "This report was cut by" in body
    assert "## part 0" in body
    assert "## part 1\n" not in body
    assert len(fake.calls("POST", r"/git/blobs$")) == 1  # p0.png only
    assert "?raw=true" in body
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().count("## part 39") == 1
