"""The assets branch under GitHub's documented rules: ``base_tree`` is a tree, protected branches refuse."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests

from tests.fakes.github import FakeGitHub
from tests.integration.github.conftest import REPO, USER_TOKEN, Cml, actions_env
from tests.integration.github.test_assets import png
from tests.integration.race import leaks


def _name(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() + ".png"


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("cml: ")]
    assert len(lines) == 1, err
    return lines[0]


def test_the_fake_refuses_a_commit_sha_as_base_tree(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, repo: Path
) -> None:
    png(repo / "a.png", 1)
    assert cml("publish", "a.png", env=env) == 0
    state = fake.repos[REPO]
    head = state.refs["heads/cml-assets"]
    url = f"{fake.url}/repos/{REPO}/git/trees"
    auth = {"Authorization": f"token {USER_TOKEN}"}
    refused = requests.post(url, json={"base_tree": head, "tree": []}, headers=auth, timeout=10)
    assert refused.status_code == 422
    taken = requests.post(
        url, json={"base_tree": state.commits[head]["tree"], "tree": []}, headers=auth, timeout=10
    )
    assert taken.status_code == 201


def test_a_second_run_adds_an_image_on_top_of_the_branch(
    fake: FakeGitHub, env: dict[str, str], cml: Cml, repo: Path
) -> None:
    a, c = png(repo / "a.png", 1), png(repo / "c.png", 3)
    (repo / "r.md").write_text("![a](a.png)\n")
    assert cml("comment", "update", str(repo / "r.md"), env=env) == 0
    state = fake.repos[REPO]
    first = state.refs["heads/cml-assets"]
    (repo / "r.md").write_text("![a](a.png)\n\n![c](c.png)\n")
    assert cml("comment", "update", str(repo / "r.md"), env=env) == 0
    second = state.refs["heads/cml-assets"]
    assert state.commits[second]["parents"] == [first]
    files = state.trees[state.commits[second]["tree"]]
    assert set(files) == {_name(a), _name(c)}
    assert state.blobs[files[_name(c)]] == c.read_bytes()
    [tree_post] = fake.calls("POST", r"/git/trees$")[1:]
    assert tree_post.json["base_tree"] == state.commits[first]["tree"]  # a tree sha, not the commit
    [posted] = state.issue_comments
    for path in (a, c):
        assert f"/blob/cml-assets/{_name(path)}?raw=true" in str(posted["body"])


@pytest.mark.parametrize("rule", ["ruleset", "classic"])
@pytest.mark.parametrize("exists", [True, False], ids=["move", "create"])
def test_a_protected_assets_branch_is_one_clear_line(
    fake: FakeGitHub,
    env: dict[str, str],
    cml: Cml,
    repo: Path,
    capfd: pytest.CaptureFixture[str],
    rule: str,
    exists: bool,
) -> None:
    if exists:
        png(repo / "a.png", 1)
        assert cml("publish", "a.png", env=env) == 0
    before = dict(fake.repos[REPO].refs)
    fake.protect(REPO, "cml-assets", rule)  # type: ignore[arg-type]
    capfd.readouterr()
    png(repo / "b.png", 2)
    (repo / "r.md").write_text("![b](b.png)\n")
    assert cml("comment", "update", str(repo / "r.md"), env=env) == 4
    err = capfd.readouterr().err
    line = _error_line(err)
    assert line.startswith("cml: error: branch cml-assets of acme/app is protected")
    assert "exclude cml-assets from the branch protection rule or ruleset" in line
    assert "CML_ASSETS_BRANCH" in line
    assert "kept moving" not in err
    assert len(fake.calls("PATCH" if exists else "POST", r"/git/refs")) == 1  # asked once, no loop
    assert fake.repos[REPO].refs == before
    assert not fake.repos[REPO].issue_comments
    assert not leaks(USER_TOKEN, err)


def test_another_assets_branch_gets_round_a_protected_one(
    fake: FakeGitHub, tmp_path: Path, cml: Cml, repo: Path
) -> None:
    fake.protect(REPO, "cml-assets")
    env = actions_env(fake, tmp_path, CML_ASSETS_BRANCH="cml-plots")
    png(repo / "a.png", 1)
    assert cml("publish", "a.png", env=env) == 0
    assert "heads/cml-plots" in fake.repos[REPO].refs
    assert "heads/cml-assets" not in fake.repos[REPO].refs
