"""Hostile pagination on GitLab: ``Link: rel="next"`` to another host, to itself, in a cycle.

python-gitlab is built with ``keep_base_url=True``: a next link whose path holds ``/api`` has its
base rewritten to ours (measured here: the foreign host receives nothing, the page comes from the
API host); any other foreign link is refused by the transport before a byte is sent. A link back
to a page already read ends the listing with one line instead of looping forever (or recursing, as
python-gitlab does on empty pages).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cml.cli import main
from tests.fakes.gitlab import FakeGitLab, Project
from tests.fakes.http import Bystander, token_forms
from tests.integration.gitlab.conftest import MR_IID, TOKEN

NOTES = f"/api/v4/projects/42/merge_requests/{MR_IID}/notes"


@pytest.fixture
def bystander() -> Iterator[Bystander]:
    """The host the hostile links point to."""
    with Bystander() as server:
        yield server


def link(url: str) -> dict[str, str]:
    """A ``Link`` header announcing ``url`` as the next page."""
    return {"Link": f'<{url}>; rel="next"'}


def run(env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    """``cml comment update report.md``; the token in no form in the output."""
    (repo / "report.md").write_text("# R\n\nacc 0.9\n")
    code = main(["comment", "update", "report.md"], env)
    out, err = capfd.readouterr()
    assert all(form not in out + err for form in token_forms(TOKEN))
    return code, [x for x in (out + err).splitlines() if x.startswith("cml:")]


def untouched(bystander: Bystander) -> bool:
    """True when the second host received nothing (so no token either)."""
    received = "\n".join(r.text() for r in bystander.requests)
    return bystander.requests == [] and all(form not in received for form in token_forms(TOKEN))


def test_a_foreign_next_link_on_the_api_path_is_read_from_the_api_host(
    fake: FakeGitLab,
    project: Project,
    env: dict[str, str],
    repo: Path,
    bystander: Bystander,
    capfd: pytest.CaptureFixture[str],
) -> None:
    fake.add_note(project, "merge_requests", MR_IID, "from alice", "alice")
    foreign = f"{bystander.url}/gitlab{NOTES}?page=2&per_page=100&sort=asc&order_by=created_at"
    fake.faults.add("headers", method="GET", path=r"/notes$", headers=link(foreign))
    code, lines = run(env, repo, capfd)
    assert (code, lines) == (0, [])
    assert untouched(bystander)
    assert [r.arg("page") for r in fake.calls("GET", r"/notes$")] == [
        None,
        "2",
        None,
    ]  # page 2 from us; then the re-read after creating
    first, ours = fake.notes(project, "merge_requests", MR_IID)
    assert first["body"] == "from alice"
    assert "acc 0.9" in ours["body"]


def test_a_foreign_next_link_elsewhere_is_refused(
    fake: FakeGitLab,
    project: Project,
    env: dict[str, str],
    repo: Path,
    bystander: Bystander,
    capfd: pytest.CaptureFixture[str],
    sleeps: list[float],
) -> None:
    fake.faults.add("headers", method="GET", path=r"/notes$", headers=link(f"{bystander.url}/collect?page=2"))
    code, [line] = run(env, repo, capfd)
    assert code == 4
    assert line.startswith(
        f"cml: error: refused to send a request to {bystander.url}: it is not GitLab's API host"
    )
    assert "collect" not in line
    assert untouched(bystander)
    assert fake.notes(project, "merge_requests", MR_IID) == []
    assert sleeps == []


def test_a_self_referencing_next_link_ends_the_listing(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    fake.add_note(project, "merge_requests", MR_IID, "old", "alice")
    page1 = f"{fake.api}/projects/42/merge_requests/{MR_IID}/notes?page=1&per_page=100"
    fake.faults.add("headers", method="GET", path=r"/notes$", headers=link(page1), times=1000)
    code, [line] = run(env, repo, capfd)
    assert code == 4
    assert line == (
        f"cml: error: GitLab's pagination loops: the next link after /gitlab{NOTES} points back to a page "
        "already read (check CI_SERVER_URL / CI_API_V4_URL)"
    )
    assert len(fake.calls("GET", r"/notes$")) == 2
    assert [n["body"] for n in fake.notes(project, "merge_requests", MR_IID)] == ["old"]


def test_a_cycle_of_empty_pages_ends_without_recursing(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    base = f"{fake.api}/projects/42/merge_requests/{MR_IID}/notes?per_page=100"
    for page in (2, 3, 2):  # page 1 -> 2 -> 3 -> 2: python-gitlab recurses on empty pages
        fake.faults.add("headers", method="GET", path=r"/notes$", headers=link(f"{base}&page={page}"))
    fake.faults.add("headers", method="GET", path=r"/notes$", headers=link(f"{base}&page=3"), times=1000)
    code, [line] = run(env, repo, capfd)
    assert code == 4
    assert "GitLab's pagination loops" in line
    assert [r.arg("page") for r in fake.calls("GET", r"/notes$")] == [None, "2", "3"]
    assert fake.notes(project, "merge_requests", MR_IID) == []


def test_a_repeated_listing_is_not_a_loop(
    fake: FakeGitLab, project: Project, env: dict[str, str], repo: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    for n in range(150):  # two pages of 100, listed once per run
        fake.add_note(project, "merge_requests", MR_IID, f"note {n}", "alice")
    assert run(env, repo, capfd) == (0, [])
    assert run(env, repo, capfd) == (0, [])
    # run 1 lists (newest first), creates and lists again in full (to converge with racing runs);
    # run 2 finds ours on the newest page and updates
    assert [r.arg("page") for r in fake.calls("GET", r"/notes$")] == [None, "2", None, "2", None]
    assert len(fake.notes(project, "merge_requests", MR_IID)) == 151  # created once, then updated
