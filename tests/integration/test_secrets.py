"""Tokens through the real CLI against the fake GitHub and GitLab: pasted whitespace is stripped, a
token no forge could have is refused without being echoed, and a body holding a token in any form
(plain, base64 at any offset, hex) is never sent: exit 2, one line, the fake holds nothing new.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cml.cli import main
from tests.conftest import git
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab, Project
from tests.fakes.http import FakeServer
from tests.integration.github.conftest import REPO, actions_env
from tests.leaks import leaks, without_masks

GITHUB_TOKEN = "tok-ada-5f1e9c0b7d2a4e6f"  # not token-shaped: only registration can hide it
GITLAB_TOKEN = "glpat-Zq8sK2vXw9LmN4pR7tYb"
PR = 7


@dataclass
class Forge:
    """A started fake forge, the CI environment that points cml at it, and what it holds."""

    name: str
    fake: FakeServer
    env: dict[str, str]
    token: str
    bodies: Callable[[], list[str]]  # every comment, note, check and status text the fake holds


def _github(tmp_path: Path) -> Iterator[Forge]:
    with FakeGitHub() as fake:
        fake.add_repo(REPO)
        fake.add_pr(REPO, PR, "a" * 40)
        fake.add_token(GITHUB_TOKEN, "ada")
        repo = fake.repos[REPO]

        def bodies() -> list[str]:
            held = [*repo.issue_comments, *repo.commit_comments, *repo.check_runs, *repo.statuses]
            return [str(item) for item in held]

        yield Forge("github", fake, actions_env(fake, tmp_path, token=""), GITHUB_TOKEN, bodies)


def _gitlab(sha: str) -> Iterator[Forge]:
    with FakeGitLab() as fake:
        fake.add_user("project_42_bot", GITLAB_TOKEN, bot=True)
        project: Project = fake.add_project("group/project", 42)
        fake.add_mr(project, PR, sha)
        env = {
            "GITLAB_CI": "true",
            "CI_SERVER_URL": fake.url,
            "CI_API_V4_URL": fake.api,
            "CI_PROJECT_ID": "42",
            "CI_PROJECT_PATH": project.path,
            "CI_COMMIT_SHA": sha,
            "CI_MERGE_REQUEST_IID": str(PR),
            "CI_JOB_NAME": "report",
        }

        def bodies() -> list[str]:
            held = [*project.notes.values(), *project.discussions.values(), *project.statuses.values()]
            return [str(item) for item in held]

        yield Forge("gitlab", fake, env, GITLAB_TOKEN, bodies)


@pytest.fixture(params=["github", "gitlab"])
def forge(
    request: pytest.FixtureRequest, repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Forge]:
    """The fake forge named by the parameter; the work tree is ``repo``."""
    monkeypatch.chdir(repo)
    if request.param == "github":
        yield from _github(tmp_path)
    else:
        yield from _gitlab(git(repo, "rev-parse", "HEAD"))


def _run(forge: Forge, capfd: pytest.CaptureFixture[str], *argv: str, token: str) -> tuple[int, str, str]:
    capfd.readouterr()
    code = main(list(argv), {**forge.env, "REPO_TOKEN": token})
    out, err = capfd.readouterr()
    return code, out, err


def _assert_nothing_leaked(forge: Forge, out: str, err: str, token: str) -> None:
    assert not leaks(without_masks(out + err), token)
    assert not any(leaks(body, token) for body in forge.bodies())
    assert not any(leaks(r.body.decode("utf-8", "replace"), token) for r in forge.fake.requests)


@pytest.mark.parametrize("pasted", ["{t}\n", "  {t}  ", "\t{t}\r\n"], ids=["newline", "spaces", "tab-crlf"])
def test_a_pasted_token_is_stripped_and_works(
    forge: Forge, repo: Path, pasted: str, capfd: pytest.CaptureFixture[str]
) -> None:
    (repo / "report.md").write_text("# Metrics\n\nacc 0.91\n")
    code, out, err = _run(forge, capfd, "comment", "update", "report.md", token=pasted.format(t=forge.token))
    assert (code, err if forge.name == "gitlab" else "") == (0, "")
    assert [line for line in err.splitlines() if line.startswith("::add-mask::")] == (
        [f"::add-mask::{forge.token}"] if forge.name == "github" else []
    )  # one mask, of the stripped token (a mask is one line: "tok\n" would mask nothing after it)
    assert len(forge.bodies()) == 1
    assert "acc 0.91" in forge.bodies()[0]
    _assert_nothing_leaked(forge, out, err, forge.token)


@pytest.mark.parametrize("bad", ["{a}\n{b}", "{a}\r{b}", "{a} {b}", "{a}\x00{b}", "{a}é{b}"])
def test_a_token_no_forge_could_have_is_refused_naming_the_variable_only(
    forge: Forge, repo: Path, bad: str, capfd: pytest.CaptureFixture[str]
) -> None:
    (repo / "report.md").write_text("# Metrics\n")
    token = bad.format(a=forge.token[:8], b=forge.token[8:])
    code, out, err = _run(forge, capfd, "comment", "update", "report.md", token=token)
    assert code == 3
    assert err == (
        "cml: error: REPO_TOKEN: the token holds a line break, space or other character no token has "
        "(set REPO_TOKEN to the token alone, on one line)\n"
    )
    assert forge.fake.requests == []
    assert forge.bodies() == []
    for piece in (forge.token[:8], forge.token[8:]):
        assert piece not in out + err


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ENCODINGS: dict[str, Callable[[str], str]] = {
    "plain": lambda t: f"token={t}",
    "basic-auth-header": lambda t: "AUTHORIZATION: basic " + _b64(f"x-access-token:{t}".encode()),
    "base64-offset-1": lambda t: _b64(b"a" + t.encode()),
    "base64-offset-2-unpadded": lambda t: _b64(b"ab" + t.encode() + b"z").rstrip("="),
    "base64-urlsafe": lambda t: base64.urlsafe_b64encode(b"\xfb\xff" + t.encode()).decode(),
    "hex": lambda t: t.encode().hex(),
}


@pytest.mark.parametrize("encode", ENCODINGS.values(), ids=ENCODINGS.keys())
def test_a_body_holding_the_token_is_not_posted(
    forge: Forge, repo: Path, encode: Callable[[str], str], capfd: pytest.CaptureFixture[str]
) -> None:
    (repo / "report.md").write_text(f"# Metrics\n\nacc 0.91\n\n```\n{encode(forge.token)}\n```\n")
    code, out, err = _run(forge, capfd, "comment", "update", "report.md", token=forge.token)
    assert code == 2
    assert without_masks(err) == (
        "cml: error: refusing to post the comment: its line 7 holds a token (or its base64 or hex form) "
        "(remove it from the report; `--dry-run` shows the body with it redacted)"
    )
    assert forge.bodies() == []
    assert [r for r in forge.fake.requests if r.method != "GET"] == []
    _assert_nothing_leaked(forge, out, err, forge.token)


def test_dry_run_prints_the_body_redacted_and_exits_as_a_real_run_would(
    forge: Forge, repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    secret_line = ENCODINGS["basic-auth-header"](forge.token)
    (repo / "report.md").write_text(f"# Metrics\n\n{secret_line}\n")
    code, out, err = _run(forge, capfd, "comment", "update", "report.md", "--dry-run", token=forge.token)
    assert code == 2
    assert "AUTHORIZATION: basic ***" in out
    assert out.rstrip().endswith("# Metrics\n\nAUTHORIZATION: basic ***")
    assert without_masks(err).startswith("cml: error: refusing to post the comment: its line 4 holds a token")
    assert forge.fake.requests == []
    _assert_nothing_leaked(forge, out, err, forge.token)


def test_a_check_holding_the_token_is_not_sent(
    forge: Forge, repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    (repo / "report.md").write_text("# Gate\n\n" + ENCODINGS["base64-offset-1"](forge.token) + "\n")
    code, out, err = _run(
        forge, capfd, "check", "create", "report.md", "--conclusion", "failure", token=forge.token
    )
    assert code == 2
    assert without_masks(err).startswith("cml: error: refusing to post the check: its line 4 holds a token")
    assert forge.bodies() == []
    assert [r for r in forge.fake.requests if r.method != "GET"] == []
    _assert_nothing_leaked(forge, out, err, forge.token)
