"""Hostile HTTP answers against both forges, through the real CLI: redirects, HTML pages, drips.

Each case runs ``cml comment update`` against the fake GitHub and the fake GitLab and asserts the
exit code, the one error line, what the fake holds afterwards, and that no form of the token
reached the output or the second host (:class:`tests.fakes.http.Bystander` on 127.0.0.2).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cml.cli import main
from cml.forges import transport
from tests.fakes.github import FakeGitHub
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.http import Bystander, FakeServer, token_forms
from tests.integration.github import conftest as gh
from tests.integration.gitlab import conftest as gl


@dataclass
class World:
    """One fake forge set up for a comment on PR/MR 7, and how to look at it."""

    forge: str  # "GitHub" / "GitLab"
    fake: FakeServer
    env: dict[str, str]
    token: str
    first_get: str  # the path regex of the first request (GET /user)
    listing: str  # the path regex of the comment listing
    post: str  # the path regex of the comment POST
    bodies: Callable[[], list[str]]

    @property
    def api_url(self) -> str:
        """The API base URL the forge was given."""
        return self.env.get("GITHUB_API_URL") or self.env["CI_API_V4_URL"]

    @property
    def api(self) -> str:
        """``scheme://host:port`` of the API, as errors name it."""
        return transport.where(self.fake.url)


def _github(tmp_path: Path) -> Iterator[World]:
    with FakeGitHub() as fake:
        gh._seed(fake)
        env = gh.actions_env(fake, tmp_path)
        comments = fake.repos[gh.REPO].issue_comments
        yield World(
            forge="GitHub",
            fake=fake,
            env=env,
            token=gh.USER_TOKEN,
            first_get=r"^/user$",
            listing=r"/issues/7/comments$",
            post=r"/issues/7/comments$",
            bodies=lambda: [c["body"] for c in comments],
        )


def _gitlab(tmp_path: Path, repo: Path) -> Iterator[World]:
    with FakeGitLab() as fake:
        fake.add_user("project_42_bot", gl.TOKEN, bot=True)
        sha = "a" * 40
        project = fake.add_project("group/project", 42)
        fake.add_mr(project, gl.MR_IID, sha)
        env = {
            "GITLAB_CI": "true",
            "CI_SERVER_URL": fake.url,
            "CI_API_V4_URL": fake.api,
            "CI_PROJECT_ID": "42",
            "CI_PROJECT_PATH": project.path,
            "CI_COMMIT_SHA": sha,
            "CI_MERGE_REQUEST_IID": str(gl.MR_IID),
            "CI_JOB_NAME": "report",
            "REPO_TOKEN": gl.TOKEN,
        }
        yield World(
            forge="GitLab",
            fake=fake,
            env=env,
            token=gl.TOKEN,
            first_get=r"^/api/v4/user$",
            listing=r"/notes$",
            post=r"/notes$",
            bodies=lambda: [n["body"] for n in fake.notes(project, "merge_requests", gl.MR_IID)],
        )


@pytest.fixture(params=["github", "gitlab"])
def world(
    request: pytest.FixtureRequest, tmp_path: Path, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[World]:
    """Each fake forge in turn, cwd in a work tree holding ``report.md``."""
    monkeypatch.chdir(repo)
    (repo / "report.md").write_text("# Metrics\n\nacc 0.91\n")
    if request.param == "github":
        yield from _github(tmp_path)
    else:
        yield from _gitlab(tmp_path, repo)


@pytest.fixture
def bystander() -> Iterator[Bystander]:
    """The second host redirects and links point to."""
    with Bystander() as server:
        yield server


def run(world: World, capfd: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """``cml comment update report.md``: the exit code and the ``cml:`` lines it printed."""
    code = main(["comment", "update", "report.md"], world.env)
    out, err = capfd.readouterr()
    # On GitHub Actions the runner swallows `::add-mask::TOKEN` (it masks the token): the one line allowed.
    shown = "\n".join(x for x in (out + err).splitlines() if x != f"::add-mask::{world.token}")
    for form in token_forms(world.token):
        assert form not in shown
    return code, [line for line in shown.splitlines() if line.startswith("cml:")]


def assert_untouched(bystander: Bystander, world: World) -> None:
    """The second host received nothing, so certainly no token."""
    received = "\n".join(r.text() for r in bystander.requests)
    assert all(form not in received for form in token_forms(world.token))
    assert bystander.requests == []


@pytest.mark.parametrize(
    ("method", "status"),
    [("GET", 301), ("GET", 302), ("GET", 307), ("GET", 308), ("POST", 307), ("POST", 308), ("POST", 302)],
)
def test_a_redirect_to_another_host_is_not_followed(
    world: World,
    bystander: Bystander,
    method: str,
    status: int,
    capfd: pytest.CaptureFixture[str],
    sleeps: list[float],
) -> None:
    path = world.first_get if method == "GET" else world.post
    world.fake.faults.add(
        "redirect", method=method, path=path, status=status, location=f"{bystander.url}/steal?sig=Zs3cr3t"
    )
    code, [line] = run(world, capfd)
    assert code == 4
    assert line.startswith(f"cml: error: {world.forge}'s API at {world.api} answered {method} ")
    assert f"a redirect to another host ({bystander.url})" in line
    assert "steal" not in line
    assert "Zs3cr3t" not in line
    assert_untouched(bystander, world)
    assert world.bodies() == []
    assert sleeps == []  # not a transient fault: no retries


def test_a_foreign_location_with_credentials_names_only_the_host(
    world: World, bystander: Bystander, capfd: pytest.CaptureFixture[str]
) -> None:
    host = bystander.url.removeprefix("http://")
    world.fake.faults.add("redirect", method="GET", status=302, location=f"http://user:pw@{host}/x?t=1")
    code, [line] = run(world, capfd)
    assert code == 4
    assert f"({bystander.url})" in line
    assert "pw@" not in line
    assert_untouched(bystander, world)


def test_a_same_host_redirect_of_a_read_is_followed(world: World, capfd: pytest.CaptureFixture[str]) -> None:
    # GitHub sends 301 for a renamed repository; PyGithub follows 301 to the Location's path.
    location = f"{world.fake.url}{_listing_path(world)}"
    world.fake.faults.add("redirect", method="GET", path=world.listing, status=301, location=location)
    code, lines = run(world, capfd)
    assert (code, lines) == (0, [])
    assert len(world.bodies()) == 1
    # the redirected read reached the route once, then the re-read after creating (racing runs converge)
    assert len(world.fake.calls("GET", world.listing)) == 2


def _listing_path(world: World) -> str:
    """The listing's path, as the redirect's Location (GitHub: no query, which PyGithub drops anyway)."""
    if world.forge == "GitHub":
        return f"/repos/{gh.REPO}/issues/{gh.PR}/comments"
    return f"/api/v4/projects/42/merge_requests/{gl.MR_IID}/notes?sort=asc&order_by=created_at&per_page=100&moved=1"


def test_a_same_host_redirect_of_a_write_is_refused(
    world: World, capfd: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    location = f"{world.fake.url}/elsewhere"
    world.fake.faults.add("redirect", method="POST", path=world.post, status=307, location=location)
    code, [line] = run(world, capfd)
    assert code == 4
    assert "a redirect of a write: not followed" in line
    assert world.bodies() == []
    assert world.fake.calls("POST") == []
    assert sleeps == []


def test_a_redirect_back_to_itself_is_a_loop(world: World, capfd: pytest.CaptureFixture[str]) -> None:
    user = world.fake.url + ("/user" if world.forge == "GitHub" else "/api/v4/user")
    world.fake.faults.add("redirect", method="GET", path=world.first_get, status=301, location=user, times=50)
    code, [line] = run(world, capfd)
    assert code == 4
    assert "the redirects loop" in line
    assert len(world.fake.faults.fired) == 1
    assert world.bodies() == []


def test_a_long_redirect_chain_is_cut(world: World, capfd: pytest.CaptureFixture[str]) -> None:
    user = world.fake.url + ("/user" if world.forge == "GitHub" else "/api/v4/user")
    if world.forge == "GitHub":  # PyGithub follows paths alone: the chain walks through other paths
        hops = [f"{world.fake.url}/user{'/x' * n}" for n in range(1, 10)]
    else:
        hops = [f"{user}?hop={n}" for n in range(1, 10)]
    for hop in hops:
        world.fake.faults.add("redirect", method="GET", path=r"^/(api/v4/)?user", status=301, location=hop)
    code, [line] = run(world, capfd)
    assert code == 4
    assert "the redirects loop" in line
    assert len(world.fake.faults.fired) == transport.MAX_HOPS + 1
    assert world.bodies() == []


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_html_page_with_200_is_not_the_api(
    world: World, method: str, capfd: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    path = world.first_get if method == "GET" else world.post
    world.fake.faults.add("html", method=method, path=path, status=200)
    code, [line] = run(world, capfd)
    assert code == 4
    assert line.startswith(f"cml: error: {method} {world.api}")
    assert f"did not answer like {world.forge}'s API (200 text/html, not JSON)" in line
    assert "proxy" in line
    assert world.bodies() == []
    assert sleeps == []


def test_an_html_page_with_502_is_retried(
    world: World, capfd: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    world.fake.faults.add("html", method="GET", path=world.listing, status=502)
    code, lines = run(world, capfd)
    assert (code, lines) == (0, [])
    assert len(sleeps) == 1
    assert len(world.bodies()) == 1


@pytest.mark.parametrize("phase", ["headers", "body"])
def test_a_dripping_server_is_abandoned_after_the_retry_budget(
    world: World,
    phase: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    sleeps: list[float],
) -> None:
    monkeypatch.setattr(transport, "DEADLINE", 1.5)  # generous: every request of the test has it
    world.fake.faults.add("drip", method="GET", path=world.first_get, phase=phase, delay=0.2, times=6)
    code, [line] = run(world, capfd)
    assert code == 4
    assert "gave up after 6 attempts" in line
    assert f"{world.api_url}: no complete answer within 1.5 s" in line
    assert len(sleeps) == 5
    assert len(world.fake.calls("GET", world.first_get)) == 6
    assert world.bodies() == []


def test_a_drip_on_a_read_is_retried(
    world: World, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    monkeypatch.setattr(transport, "DEADLINE", 1.5)  # generous: every request of the test has it
    world.fake.faults.add("drip", method="GET", path=world.listing, phase="headers", delay=0.2)
    code, lines = run(world, capfd)
    assert (code, lines) == (0, [])
    assert len(sleeps) == 1
    assert len(world.bodies()) == 1


def test_a_drip_on_a_write_is_maybe_written_and_found_again(
    world: World, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], sleeps: list[float]
) -> None:
    monkeypatch.setattr(transport, "DEADLINE", 1.5)  # generous: every request of the test has it
    world.fake.faults.add("drip", method="POST", path=world.post, phase="body", delay=0.2)
    code, lines = run(world, capfd)
    assert (code, lines) == (0, [])
    assert len(world.bodies()) == 1  # stored once, found again by its run marker: not posted twice
    assert len(world.fake.calls("POST")) == 1
    assert sleeps == []
