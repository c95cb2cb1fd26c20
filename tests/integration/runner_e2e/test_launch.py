"""``cml runner launch`` end to end: three hosts (x64, arm64, two GPUs) on the fake GitHub, JIT by default."""

from __future__ import annotations

import json

from tests.integration.runner_e2e.conftest import E2E, runner_name, state_of

GPU_LABELS = ["gpu", "gpus-2", "gpu-a100-sxm4-40gb", "cuda-12"]


def test_three_hosts_get_their_labels_and_a_rerun_changes_nothing(github: E2E) -> None:
    x64, arm, gpu = github.host(), github.host(arch="arm64"), github.host(gpus=2)
    hosts = (x64, arm, gpu)
    first = github.cli("launch", "--labels", "train", "--json", hosts=hosts)
    assert first.code == 0, first.err
    assert [r["action"] for r in json.loads(first.out)] == ["launched"] * 3
    base = ["self-hosted", "linux"]
    assert github.remote() == {
        runner_name(x64): [*base, "x64", "train"],
        runner_name(arm): [*base, "arm64", "train"],
        runner_name(gpu): [*base, "x64", *GPU_LABELS, "train"],
    }
    # JIT by default: the runner got its config in its environment, never on argv; it runs as the
    # dedicated runner user, from the package verified for its architecture.
    runs = github.calls("run.sh")
    assert len(runs) == 3
    for call in runs:
        assert "ACTIONS_RUNNER_INPUT_JITCONFIG" in call.env
        assert call.argv == ()
        assert call.uid != 0
    assert github.calls("config.sh") == []
    assert state_of(arm, runner_name(arm))["mode"] == "jit"
    assert all(r.ephemeral for r in github.gh.runners.runners.values())  # type: ignore[union-attr]
    github.sync()  # the runners connect to GitHub

    issued, execs = len(github.issued()), [h.execs() for h in hosts]
    sftp = [h.sftp_sessions() for h in hosts]
    again = github.cli("launch", "--labels", "train", "--json", hosts=hosts)
    assert again.code == 0, again.err
    assert [(r["action"], r["message"]) for r in json.loads(again.out)] == [("unchanged", "unchanged 1")] * 3
    assert len(github.issued()) == issued  # nothing minted
    assert [h.sftp_sessions() for h in hosts] == sftp  # nothing uploaded
    assert [h.execs() - e for h, e in zip(hosts, execs, strict=True)] == [1, 1, 1]  # one round trip each


def test_changed_labels_are_applied_in_place(github: E2E) -> None:
    fake = github.host()
    assert github.cli("launch", "--labels", "a", hosts=(fake,)).code == 0
    github.sync()
    (before,) = github.gh.runners.runners.values()  # type: ignore[union-attr]
    issued = len(github.issued())
    changed = github.cli("launch", "--labels", "b", "--json", hosts=(fake,))
    assert changed.code == 0, changed.err
    (result,) = json.loads(changed.out)
    assert (result["action"], result["details"][runner_name(fake)]) == ("updated", "updated")
    (after,) = github.gh.runners.runners.values()  # type: ignore[union-attr]
    assert after.id == before.id
    # the custom labels: self-hosted, Linux and X64 are GitHub's own read-only ones, never set through the API
    assert after.labels == ["b"]
    assert [x.lower() for x in after.read_only()] == ["self-hosted", "linux", "x64"]
    assert len(github.issued()) == issued
    assert state_of(fake, runner_name(fake))["labels"] == "self-hosted,linux,x64,b"
    assert len(github.calls("run.sh")) == 1  # the same runner process, not a new one


def test_dry_run_registers_nothing_and_prints_the_plan(github: E2E) -> None:
    gpu = github.host(gpus=2, arch="arm64")
    run = github.cli("launch", "--dry-run", "--gpu", hosts=(gpu,))
    assert run.code == 0, run.err
    assert "planned" in run.out
    assert "labels: self-hosted,linux,arm64,gpu,gpus-2,gpu-a100-sxm4-40gb,cuda-12" in run.out
    assert "gpus: NVIDIA A100-SXM4-40GB (40960 MiB), NVIDIA A100-SXM4-40GB (40960 MiB)" in run.out
    assert "package: actions-runner-linux-arm64-2.330.0.tar.gz 2.330.0 sha256:" in run.out
    assert f"{runner_name(gpu)}: would be installed" in run.out
    assert github.remote() == {}
    assert github.issued() == []
    assert github.calls() == []
    assert not gpu.runners.exists()


def test_status_shows_the_host_side_and_the_forge_side(github: E2E) -> None:
    fake = github.host(arch="arm64")
    assert github.cli("launch", hosts=(fake,)).code == 0
    github.sync()
    run = github.cli("status", "--json", hosts=(fake,))
    assert run.code == 0, run.err
    (result,) = json.loads(run.out)
    assert (result["action"], result["runners"]) == ("running", [runner_name(fake)])
    assert result["details"]["arch"] == "arm64"
    assert result["details"][runner_name(fake)].startswith("jit running; online, idle ")


def test_runner_package_file_is_installed_without_a_download(github: E2E) -> None:
    fake = github.host()
    package = github.root / "packages" / "actions-runner-linux-x64-2.330.0.tar.gz"  # what the forge lists
    run = github.cli("launch", "--runner-package", str(package), hosts=(fake,))
    assert run.code == 0, run.err
    assert github.releases.requests == []  # type: ignore[union-attr]  # nothing downloaded
    assert len(github.calls("run.sh")) == 1
    other = github.root / "other.tar.gz"
    other.write_bytes(b"not the runner GitHub publishes")
    bad = github.host()
    refused = github.cli("launch", "--runner-package", str(other), hosts=(bad,))
    assert refused.code == 2
    (line,) = refused.errors
    assert line.startswith(f"cml: error: {bad.host.name}: --runner-package {other}: sha256 ")
    assert len(github.calls("run.sh")) == 1
    assert list(github.remote()) == [runner_name(fake)]  # nothing registered for the refused host
