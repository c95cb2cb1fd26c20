"""GitLabRunners against the fake GitLab: create (glrt-), list, tags, delete, scopes, the binary."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from cml.ci import CIContext
from cml.errors import AuthError, ForgeError
from cml.log import redact
from cml.runner import package
from cml.runner.gitlab import GitLabRunners, checksum, downloads
from tests.fakes.gitlab import FakeGitLab
from tests.fakes.releases import FakeReleases, gitlab_folder
from tests.integration.runner_forge.conftest import GL_API, GL_CREATE, GL_READ, GROUP_ID, PROJECT_ID, line

AMD64 = b"\x7fELF fake gitlab-runner amd64" * 50
ARM64 = b"\x7fELF fake gitlab-runner arm64" * 50


def test_create_runner_returns_a_registered_glrt_token(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    rid, token = GitLabRunners(gl_ctx, GL_API).create_runner("cml-gpu-1", ["gpu", "cuda-12"])
    held = gl.runners.get(rid)
    assert held is not None
    assert token.startswith("glrt-")
    assert (held["description"], held["tag_list"], held["locked"], held["run_untagged"]) == (
        "cml-gpu-1",
        ["gpu", "cuda-12"],
        True,
        False,
    )
    assert held["_projects"] == [PROJECT_ID]
    body = gl.calls("POST", r"/user/runners$")[0].json
    assert (body["runner_type"], body["project_id"]) == ("project_type", PROJECT_ID)
    assert redact(f"token={token}") == "token=***"
    assert gl.runners.register(token)["status"] == "online"


def test_project_path_without_id_is_looked_up_once(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    from dataclasses import replace

    runners = GitLabRunners(replace(gl_ctx, project_id=None), GL_API)
    runners.create_runner("cml-1", ["gpu"])
    runners.create_runner("cml-2", ["gpu"])
    assert len(gl.calls("GET", r"/projects/group%2Fproject$")) == 1
    assert sorted(r["description"] for r in gl.runners.of(project=PROJECT_ID)) == ["cml-1", "cml-2"]


def test_create_runner_scope_alone_may_create(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    rid, _ = GitLabRunners(gl_ctx, GL_CREATE).create_runner("cml-1", ["gpu"], run_untagged=True)
    held = gl.runners.get(rid)
    assert held is not None
    assert held["run_untagged"] is True


def test_create_without_the_scope_names_create_runner(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    with pytest.raises(AuthError) as err:
        GitLabRunners(gl_ctx, GL_READ).create_runner("cml-1", ["gpu"])
    text = line(err.value)
    assert err.value.exit_code == 5
    assert "refused it on project group/project (403)" in text
    assert "create_runner" in text
    assert GL_READ not in text
    assert gl.runners.runners == {}


def test_listing_with_create_runner_scope_names_manage_runner(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    gl.runners.add("cml-1", project=PROJECT_ID)
    with pytest.raises(AuthError) as err:
        GitLabRunners(gl_ctx, GL_CREATE).delete(next(iter(gl.runners.runners)))
    assert "manage_runner" in line(err.value)
    assert len(gl.runners.runners) == 1


def test_revoked_token_exits_5(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    gl.revoke(GL_API)
    with pytest.raises(AuthError) as err:
        GitLabRunners(gl_ctx, GL_API).runners()
    assert err.value.exit_code == 5
    assert "GitLab rejected the token" in line(err.value)


def test_250_runners_listed_on_three_pages_and_only_ours_detailed(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    for i in range(245):
        gl.runners.add(f"other-{i}", project=PROJECT_ID)
    gl.runners.add("cml-a", ["gpu"], project=PROJECT_ID)
    gl.runners.add("cml-b", ["gpu", "arm64"], project=PROJECT_ID, busy=True)
    gl.runners.add("cml-c", project=PROJECT_ID, status="offline")
    gl.runners.add("cml-d", project=PROJECT_ID, status="never_contacted")
    gl.runners.add("cml-group", group=GROUP_ID)  # a group runner the project sees: not the project's own
    found = {r.name: r for r in GitLabRunners(gl_ctx, GL_API).runners("cml-")}
    assert sorted(found) == ["cml-a", "cml-b", "cml-c", "cml-d"]
    assert found["cml-b"].labels == ("gpu", "arm64")
    assert (found["cml-a"].online, found["cml-a"].busy) == (True, False)
    assert (found["cml-b"].online, found["cml-b"].busy) == (True, True)
    assert not found["cml-c"].online
    assert not found["cml-d"].online
    pages = gl.calls("GET", r"/projects/42/runners$")
    assert [p.arg("page") for p in pages] == [None, "2", "3"]
    assert all(p.arg("type") == "project_type" for p in pages)
    assert pages[0].arg("per_page") == "100"
    assert len(gl.calls("GET", r"/runners/\d+$")) == 4
    assert len(gl.calls("GET", r"/runners/\d+/jobs$")) == 2  # only online runners can be busy


def test_group_scope(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    runners = GitLabRunners(gl_ctx, GL_API, group="group")
    rid, _ = runners.create_runner("cml-g-1", ["gpu"])
    assert [r["id"] for r in gl.runners.of(group=GROUP_ID)] == [rid]
    assert gl.calls("POST", r"/user/runners$")[0].json["group_id"] == GROUP_ID
    assert [r.id for r in runners.runners()] == [rid]
    assert runners.url == gl.url


def test_set_labels_and_delete(gl: FakeGitLab, gl_ctx: CIContext) -> None:
    runner = gl.runners.add("cml-1", ["gpu"], project=PROJECT_ID)
    runners = GitLabRunners(gl_ctx, GL_API)
    runners.set_labels(runner["id"], ["gpu", "gpus-2"])
    assert runner["tag_list"] == ["gpu", "gpus-2"]
    assert runners.delete(runner["id"]) is True
    assert gl.runners.runners == {}
    assert runners.delete(runner["id"]) is False


def test_lost_create_answer_leaves_one_runner(gl: FakeGitLab, gl_ctx: CIContext, sleeps: list[float]) -> None:
    gl.faults.add("reset_after", method="POST", path=r"/user/runners$")
    rid, token = GitLabRunners(gl_ctx, GL_API).create_runner("cml-1", ["gpu"])
    assert list(gl.runners.runners) == [rid]
    assert gl.runners.register(token)["id"] == rid
    assert len(gl.calls("DELETE")) == 1


def test_package_from_the_release_folder(
    gl: FakeGitLab, gl_ctx: CIContext, releases: FakeReleases, tmp_path: Path
) -> None:
    base = gitlab_folder(releases, {"amd64": AMD64, "arm64": ARM64}, version="v17.6.0")
    runners = GitLabRunners(gl_ctx, GL_API, downloads=base)
    pkg = runners.package("linux", "arm64")
    assert (pkg.filename, pkg.version, pkg.sha256) == (
        "gitlab-runner-linux-arm64",
        "v17.6.0",
        hashlib.sha256(ARM64).hexdigest(),
    )
    assert package.fetch(pkg, tmp_path).read_bytes() == ARM64
    assert runners.package("linux", "x64").url == f"{base}/binaries/gitlab-runner-linux-amd64"
    assert not releases.credentials()
    assert not any(GL_API in r.text() for r in releases.requests)


def test_package_missing_from_the_checksum_list(
    gl: FakeGitLab, gl_ctx: CIContext, releases: FakeReleases
) -> None:
    base = gitlab_folder(releases, {"amd64": AMD64})
    with pytest.raises(ForgeError) as err:
        GitLabRunners(gl_ctx, GL_API, downloads=base).package("linux", "arm64")
    assert err.value.exit_code == 4
    assert "lists no checksum for binaries/gitlab-runner-linux-arm64" in line(err.value)


def test_downloads_setting() -> None:
    assert downloads({"CML_GITLAB_RUNNER_DOWNLOADS": "http://mirror/gl/"}) == "http://mirror/gl"
    assert downloads({}).endswith("/gitlab-runner-downloads/latest")


@pytest.mark.parametrize("sep", ["\t", "  ", " *", "  ./"])
def test_checksum_list_formats(sep: str) -> None:
    sha = "a" * 64
    listing = f"{'b' * 64}{sep}binaries/gitlab-runner-linux-amd64-fips\n{sha.upper()}{sep}binaries/gitlab-runner-linux-amd64\n"
    assert checksum(listing, "binaries/gitlab-runner-linux-amd64") == sha
    assert checksum(listing, "binaries/gitlab-runner-linux-arm64") is None
    assert checksum("zz\tbinaries/gitlab-runner-linux-amd64", "binaries/gitlab-runner-linux-amd64") is None
