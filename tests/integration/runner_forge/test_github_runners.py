"""GitHubRunners against the fake GitHub: each endpoint, pagination, refusals, secrets registered."""

from __future__ import annotations

import base64

import pytest

from cml.ci import CIContext
from cml.errors import AuthError, ForgeError
from cml.log import redact
from cml.runner.github import GitHubRunners
from tests.fakes.github import FakeGitHub
from tests.integration.runner_forge.conftest import ADMIN, BOT, ORG, REPO, line


def test_package_for_each_architecture(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    gh.runners.publish(
        "linux",
        "arm64",
        "https://example.test/a.tar.gz",
        "ab" * 32,
        "actions-runner-linux-arm64-2.331.1.tar.gz",
    )
    pkg = GitHubRunners(gh_ctx, ADMIN).package("linux", "arm64")
    assert (pkg.arch, pkg.version, pkg.sha256) == ("arm64", "2.331.1", "ab" * 32)
    assert pkg.url == "https://example.test/a.tar.gz"
    x64 = GitHubRunners(gh_ctx, ADMIN).package("linux", "x64")
    assert x64.filename == "actions-runner-linux-x64-2.330.0.tar.gz"
    assert len(gh.calls("GET", r"/actions/runners/downloads$")) == 2


def test_package_missing_names_what_github_lists(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    with pytest.raises(ForgeError) as err:
        GitHubRunners(gh_ctx, ADMIN).package("osx", "arm64")
    assert err.value.exit_code == 4
    assert "no runner for osx/arm64" in line(err.value)
    assert "linux/arm64, linux/x64" in line(err.value)


def test_jit_config_creates_the_runner_and_is_registered(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    runners = GitHubRunners(gh_ctx, ADMIN)
    rid, config = runners.jit_config("cml-gpu-1", ["gpu", "cuda-12"])
    held = gh.runners.runners[rid]
    assert (held.name, held.labels, held.ephemeral, held.status) == (
        "cml-gpu-1",
        ["gpu", "cuda-12"],
        True,
        "offline",
    )
    body = gh.calls("POST", r"/generate-jitconfig$")[0].json
    assert body == {
        "name": "cml-gpu-1",
        "runner_group_id": 1,
        "labels": ["gpu", "cuda-12"],
        "work_folder": "_work",
    }
    assert redact(config) == "***"
    assert redact(f"[{base64.b64encode(config.encode()).decode()}]") == "[***]"
    gh.runners.register(config, arch="ARM64")
    [listed] = runners.runners("cml-")
    assert (listed.id, listed.online, listed.busy) == (rid, True, False)
    assert listed.labels == ("self-hosted", "Linux", "ARM64", "gpu", "cuda-12")


def test_jit_name_in_use_is_one_line_naming_it(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    gh.runners.add("cml-gpu-1", repo=REPO)
    with pytest.raises(ForgeError) as err:
        GitHubRunners(gh_ctx, ADMIN).jit_config("cml-gpu-1", ["gpu"])
    assert err.value.exit_code == 4
    assert "a runner named cml-gpu-1 already exists on repository acme/app" in line(err.value)
    assert len(gh.runners.of(repo=REPO)) == 1


def test_jit_without_labels_is_refused_before_asking(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    with pytest.raises(ForgeError, match="1 to 100 labels"):
        GitHubRunners(gh_ctx, ADMIN).jit_config("cml-1", [])
    assert not gh.calls("POST")


def test_jit_answer_lost_leaves_one_runner_whose_config_works(
    gh: FakeGitHub, gh_ctx: CIContext, sleeps: list[float]
) -> None:
    gh.faults.add("reset_after", method="POST", path=r"/generate-jitconfig$")
    rid, config = GitHubRunners(gh_ctx, ADMIN).jit_config("cml-gpu-1", ["gpu"])
    assert [r.id for r in gh.runners.of(repo=REPO)] == [rid]
    assert len(gh.calls("POST", r"/generate-jitconfig$")) == 2
    assert len(gh.calls("DELETE")) == 1  # the first, whose config was lost, was removed
    assert gh.runners.register(config).id == rid
    assert len(sleeps) == 1


def test_registration_and_remove_tokens_register_and_unregister(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    runners = GitHubRunners(gh_ctx, ADMIN)
    token = runners.registration_token()
    assert redact(f"--token {token}") == "--token ***"
    gh.runners.register(token, "cml-svc-1", ["gpu"])
    remove = runners.remove_token()
    assert redact(remove) == "***"
    assert remove != token
    assert gh.runners.unregister(remove, "cml-svc-1")
    assert runners.runners() == []


def test_expired_registration_token_no_longer_registers(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    token = GitHubRunners(gh_ctx, ADMIN).registration_token()
    gh.runners.expire_tokens()
    with pytest.raises(LookupError):
        gh.runners.register(token, "cml-svc-1")
    assert gh.runners.of(repo=REPO) == []


def test_250_runners_are_read_on_three_pages(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    for i in range(250):
        gh.runners.add(
            f"{'cml' if i % 5 else 'other'}-{i}", ["gpu"], repo=REPO, status="offline" if i % 2 else "online"
        )
    found = GitHubRunners(gh_ctx, ADMIN).runners("cml-")
    assert len(found) == 200
    assert len({r.id for r in found}) == 200
    assert sum(r.online for r in found) == 100
    pages = gh.calls("GET", r"/actions/runners$")
    assert [p.arg("page") for p in pages] == [None, "2", "3"]
    assert pages[0].arg("per_page") == "100"


def test_delete_removes_and_a_second_delete_finds_it_gone(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    runner = gh.runners.add("cml-1", repo=REPO)
    runners = GitHubRunners(gh_ctx, ADMIN)
    assert runners.delete(runner.id) is True
    assert gh.runners.of(repo=REPO) == []
    assert runners.delete(runner.id) is False


def test_busy_runner_is_not_deleted_and_the_error_names_it(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    runner = gh.runners.add("cml-1", repo=REPO, busy=True)
    with pytest.raises(ForgeError) as err:
        GitHubRunners(gh_ctx, ADMIN).delete(runner.id)
    assert err.value.exit_code == 4
    assert f"runner {runner.id} on repository acme/app is running a job" in line(err.value)
    assert [r.id for r in gh.runners.of(repo=REPO)] == [runner.id]
    runner.busy = False
    assert GitHubRunners(gh_ctx, ADMIN).delete(runner.id)


def test_set_labels_replaces_custom_labels(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    runner = gh.runners.add("cml-1", ["gpu", "old"], repo=REPO)
    GitHubRunners(gh_ctx, ADMIN).set_labels(runner.id, ["gpu", "gpus-2"])
    assert runner.labels == ["gpu", "gpus-2"]
    assert gh.calls("PUT")[0].json == {"labels": ["gpu", "gpus-2"]}


def test_organisation_scope(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    runners = GitHubRunners(gh_ctx, ADMIN, org=ORG)
    assert runners.url == f"{gh.html_root}/{ORG}"
    rid, _ = runners.jit_config("cml-org-1", ["gpu"])
    assert [r.id for r in gh.runners.of(org=ORG)] == [rid]
    assert gh.runners.of(repo=REPO) == []
    assert [r.name for r in runners.runners()] == ["cml-org-1"]
    assert all(r.path.startswith(f"/orgs/{ORG}/actions/runners") for r in gh.requests)


def test_repository_url_is_what_config_sh_wants(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    assert GitHubRunners(gh_ctx, ADMIN).url == f"{gh.html_root}/{REPO}"


def test_rejected_token_exits_5_without_the_token(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    bad = "ghp_" + "R" * 36
    with pytest.raises(AuthError) as err:
        GitHubRunners(gh_ctx, bad).registration_token()
    assert err.value.exit_code == 5
    assert "rejected the token" in line(err.value)
    assert bad not in str(err.value)


def test_job_token_is_refused_with_the_permission_it_lacks(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    with pytest.raises(AuthError) as err:
        GitHubRunners(gh_ctx, BOT).jit_config("cml-1", ["gpu"])
    text = line(err.value)
    assert err.value.exit_code == 5
    assert "refused it on repository acme/app (403)" in text
    assert '"Administration" repository permission' in text
    assert "default GITHUB_TOKEN cannot register runners" in text
    assert BOT not in text
    assert gh.runners.of(repo=REPO) == []


def test_organisation_refusal_names_the_self_hosted_runners_permission(
    gh: FakeGitHub, gh_ctx: CIContext
) -> None:
    gh.runners.admins = {"someone-else"}
    with pytest.raises(AuthError) as err:
        GitHubRunners(gh_ctx, ADMIN, org=ORG).registration_token()
    assert '"Self-hosted runners" organisation permission' in line(err.value)


def test_unknown_organisation_is_named(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    with pytest.raises(ForgeError) as err:
        GitHubRunners(gh_ctx, ADMIN, org="nope").runners()
    assert err.value.exit_code == 4
    assert "check that organisation nope exists" in line(err.value)


def test_5xx_on_list_is_retried(gh: FakeGitHub, gh_ctx: CIContext, sleeps: list[float]) -> None:
    gh.runners.add("cml-1", repo=REPO)
    gh.faults.add("status", method="GET", path=r"/actions/runners$", status=502, times=2)
    assert [r.name for r in GitHubRunners(gh_ctx, ADMIN).runners()] == ["cml-1"]
    assert len(sleeps) == 2


def test_set_labels_leaves_out_the_read_only_labels(gh: FakeGitHub, gh_ctx: CIContext) -> None:
    """``self-hosted``, the OS and the architecture are GitHub's own (case-insensitive): never sent as custom."""
    runner = gh.runners.add("cml-1", ["gpu"], repo=REPO)
    GitHubRunners(gh_ctx, ADMIN).set_labels(
        runner.id, ["self-hosted", "linux", "X64", "arm64", "gpu", "cuda-12"]
    )
    assert gh.calls("PUT")[0].json == {"labels": ["gpu", "cuda-12"]}
    assert runner.labels == ["gpu", "cuda-12"]
