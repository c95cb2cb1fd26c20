"""What goes wrong, end to end: host keys, a host dying mid-install, a rejected token, a bad package,
one host down among several. Each: the exit code, ONE error line naming the host, what the forge and
the host hold afterwards."""

from __future__ import annotations

import threading
import time

import pytest

from tests.integration.runner_e2e.conftest import E2E, runner_name, state_of, unmasked


def test_an_unknown_host_key_is_refused_and_nothing_runs_on_the_host(github: E2E) -> None:
    fake = github.host(known=False)
    run = github.cli("launch", hosts=(fake,))
    assert run.code == 3, run.err
    assert run.errors == [
        f"cml: error: host {fake.host.name} offered an unknown ssh-ed25519 key "
        f"{fake.fingerprint} (add it to {github.lab.known_hosts}, pin it in the inventory, or pass --accept-new)"
    ]
    assert fake.execs() == 0
    assert fake.logins() == 0
    assert github.remote() == {}
    assert github.issued() == []


def test_a_changed_host_key_is_refused_even_with_accept_new(github: E2E) -> None:
    fake = github.host()
    new = fake.rekey()  # the host was reinstalled (or someone sits in between)
    run = github.cli("launch", "--accept-new", hosts=(fake,))
    assert run.code == 4, run.err
    (line,) = run.errors
    assert f"offered ssh-ed25519 key {fake.fingerprint}" in line
    assert "--accept-new never replaces a key" in line
    assert new.split()[1] not in github.lab.known_hosts.read_text()
    assert fake.execs() == 0
    assert github.remote() == {}
    assert github.issued() == []


@pytest.mark.parametrize("how", ["kill", "drop"])
def test_sshd_killed_mid_install_rolls_back_and_a_rerun_converges(github: E2E, how: str) -> None:
    """kill: sshd, its sessions and the commands they ran die; drop: only sshd (a network drop), the
    install goes on on the host while cml rolls back what it registered."""
    # tar on the host's PATH: says it started, then takes its time (the unpack of the package).
    fake = github.host(bins={"tar": 'touch "$CML_RUNNER_HOME/.tar-started"; sleep 3; exec /bin/tar "$@"'})
    started = fake.runners / ".tar-started"

    def kill_when_tar_runs() -> None:
        deadline = time.monotonic() + 30
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        getattr(fake, how)()

    killer = threading.Thread(target=kill_when_tar_runs)
    killer.start()
    run = github.cli("launch", hosts=(fake,))
    killer.join()
    assert run.code == 4, run.err
    (line,) = run.errors
    assert line.startswith(f"cml: error: {fake.host.name}: connection lost running `sh "), line
    assert github.remote() == {}  # the JIT runner it registered was deleted again

    time.sleep(3.5 if how == "drop" else 0)  # the install on the host finishes (or dies) meanwhile
    fake.start()
    started.unlink()
    again = github.cli("launch", hosts=(fake,))
    assert again.code == 0, again.err
    name = runner_name(fake)
    assert list(github.remote()) == [name]
    assert state_of(fake, name)["mode"] == "jit"
    assert [state_of(fake, name)["id"]] == [str(r.id) for r in github.gh.runners.runners.values()]  # type: ignore[union-attr]


def test_a_rejected_token_exits_5_and_installs_nothing(github: E2E) -> None:
    fake = github.host()
    run = github.cli("launch", hosts=(fake,), REPO_TOKEN="tok-expired-0000000000000000")
    assert run.code == 5, run.err
    (line,) = run.errors
    assert line == (
        f"cml: error: {fake.host.name}: GitHub rejected the token (revoked or expired?) "
        "(set REPO_TOKEN to a valid token, or use the job's GITHUB_TOKEN)"
    )
    assert "tok-expired" not in unmasked(run.out + run.err)
    assert github.remote() == {}
    assert github.calls() == []
    assert not fake.runners.exists() or list(fake.runners.iterdir()) == []


def test_a_package_whose_checksum_does_not_match_is_refused(github: E2E) -> None:
    fake = github.host()
    (x64,) = [d for d in github.gh.runners.downloads if d["architecture"] == "x64"]  # type: ignore[union-attr]
    x64["sha256_checksum"] = "0" * 64  # not the bytes the release server sends
    run = github.cli("launch", hosts=(fake,))
    assert run.code == 4, run.err
    (line,) = run.errors
    assert "actions-runner-linux-x64-2.330.0.tar.gz" in line
    assert "expected " + "0" * 64 in line
    assert github.remote() == {}
    assert github.issued() == []
    assert github.calls() == []
    cache = github.root / "controller" / ".cache" / "cml" / "runners"
    assert not [p for p in cache.rglob("*") if p.is_file()]  # nothing kept on the controller
    assert not list((fake.home / ".cache" / "cml-runner" / "pkg").iterdir())  # nor sent to the host


def test_one_host_down_the_others_are_provisioned_and_the_failure_is_named(github: E2E) -> None:
    a, down, b = github.host(), github.host(), github.host()
    down.kill()
    run = github.cli("launch", hosts=(a, down, b))
    assert run.code == 4
    assert run.errors == [
        f"cml: error: host {down.host.name} is unreachable: Unable to connect to port {down.host.port} "
        f"on {down.host.address}"
    ]
    assert sorted(github.remote()) == sorted([runner_name(a), runner_name(b)])
