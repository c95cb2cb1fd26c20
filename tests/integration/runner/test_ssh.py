"""cml.runner.ssh against real sshd servers: host keys verified before anything runs, identities, jump
hosts, timeouts, lost connections, SFTP writes."""

from __future__ import annotations

import logging
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from cml.errors import CmlError, ConfigError, HostError, InputError
from cml.log import redact
from cml.runner import Host
from cml.runner.ssh import ChangedHostKey, SshMachine, UnknownHostKey, connect, identity_from
from tests.integration.runner.sshd import FakeHost, Lab, _marked, _pair, fingerprint, nonroot_user

pytestmark = pytest.mark.slow


def _connect(lab: Lab, host: Host, *, accept_new: bool = False) -> SshMachine:
    return connect(host, identity=str(lab.identity), known_hosts=lab.known_hosts, accept_new=accept_new)


def _nothing_ran(fake: FakeHost) -> None:
    """No login was accepted, so no command, SFTP session or forwarding can have happened."""
    log = fake.log_text()
    assert "Connection from " in log  # we did reach it
    assert fake.logins() == 0
    assert fake.execs() == 0
    assert "userauth-request" not in log
    assert fake.ran() == []


def _one_line(error: CmlError) -> str:
    text = str(error)
    assert "\n" not in text
    return text


def test_an_unknown_host_key_is_refused_before_anything_runs(ssh_lab: Lab) -> None:
    fake = ssh_lab.host(known=False)
    before = ssh_lab.known_hosts.read_text()
    with pytest.raises(UnknownHostKey) as caught:
        _connect(ssh_lab, fake.host)
    assert caught.value.exit_code == 3
    assert _one_line(caught.value) == (
        f"host {fake.host.name} offered an unknown ssh-ed25519 key {fake.fingerprint} "
        f"(add it to {ssh_lab.known_hosts}, pin it in the inventory, or pass --accept-new)"
    )
    _nothing_ran(fake)
    assert ssh_lab.known_hosts.read_text() == before


def test_a_known_key_for_another_port_does_not_make_a_host_known(ssh_lab: Lab) -> None:
    fake = ssh_lab.host(known=False)
    ssh_lab.known_hosts.write_text(f"[{fake.host.address}]:{fake.host.port + 1} {fake.host_key}\n")
    ssh_lab.known_hosts.write_text(ssh_lab.known_hosts.read_text() + f"{fake.host.address} {fake.host_key}\n")
    with pytest.raises(UnknownHostKey):
        _connect(ssh_lab, fake.host)
    _nothing_ran(fake)


@pytest.mark.parametrize("accept_new", [False, True])
def test_a_changed_host_key_is_refused_even_with_accept_new(ssh_lab: Lab, accept_new: bool) -> None:
    fake = ssh_lab.host(known=False)
    _, old = _pair()
    ssh_lab.trust(fake, key=old)
    before = ssh_lab.known_hosts.read_text()
    with pytest.raises(ChangedHostKey) as caught:
        _connect(ssh_lab, fake.host, accept_new=accept_new)
    assert caught.value.exit_code == 4
    assert _one_line(caught.value) == (
        f"host {fake.host.name} offered ssh-ed25519 key {fake.fingerprint}, but known_hosts "
        f"{ssh_lab.known_hosts} expects ssh-ed25519 key {fingerprint(old)} (if the host was reinstalled, "
        f"remove the old key (ssh-keygen -R '[{fake.host.address}]:{fake.host.port}'); "
        "--accept-new never replaces a key)"
    )
    _nothing_ran(fake)
    assert ssh_lab.known_hosts.read_text() == before


def test_accept_new_records_a_new_key_then_refuses_a_changed_one(
    ssh_lab: Lab, caplog: pytest.LogCaptureFixture
) -> None:
    fake = ssh_lab.host(known=False)
    ssh_lab.known_hosts.write_text("# no newline at the end")
    with (
        caplog.at_level(logging.INFO, logger="cml"),
        _connect(ssh_lab, fake.host, accept_new=True) as machine,
    ):
        assert machine.run("echo hi").out == "hi\n"
    name = f"[{fake.host.address}]:{fake.host.port}"
    assert ssh_lab.known_hosts.read_text() == f"# no newline at the end\n{name} {fake.host_key}\n"
    assert f"host {fake.host.name}: recorded its new ssh-ed25519 key {fake.fingerprint}" in caplog.text
    with _connect(ssh_lab, fake.host) as machine:  # now known, without --accept-new
        assert machine.run("true").code == 0
    logins = fake.logins()
    new = fake.rekey()
    with pytest.raises(
        ChangedHostKey, match=re.escape(f"offered ssh-ed25519 key {fingerprint(new)}, but known_hosts")
    ):
        _connect(ssh_lab, fake.host, accept_new=True)
    assert fake.logins() == logins
    assert ssh_lab.known_hosts.read_text().count(fake.host.address) == 1


def test_accept_new_creates_a_private_known_hosts(ssh_lab: Lab, tmp_path: Path) -> None:
    fake = ssh_lab.host(known=False)
    known = tmp_path / "new" / ".ssh" / "known_hosts"
    with connect(fake.host, identity=str(ssh_lab.identity), known_hosts=known, accept_new=True):
        pass
    assert known.read_text() == f"[{fake.host.address}]:{fake.host.port} {fake.host_key}\n"
    assert known.stat().st_mode & 0o777 == 0o600
    assert known.parent.stat().st_mode & 0o777 == 0o700


def test_hashed_known_hosts_entries_are_understood(ssh_lab: Lab) -> None:
    fake = ssh_lab.host(known=False)
    ssh_lab.trust(fake, hashed=True)
    assert fake.host.address not in ssh_lab.known_hosts.read_text()
    with _connect(ssh_lab, fake.host) as machine:
        assert machine.run("echo ok").out == "ok\n"


def test_a_revoked_key_is_refused_even_when_listed(ssh_lab: Lab) -> None:
    fake = ssh_lab.host()
    with ssh_lab.known_hosts.open("a") as out:
        out.write(f"@revoked [127.0.0.*]:* {fake.host_key}\n")
    with pytest.raises(
        ChangedHostKey, match=re.escape(f"offered ssh-ed25519 key {fake.fingerprint}, revoked in known_hosts")
    ):
        _connect(ssh_lab, fake.host, accept_new=True)
    _nothing_ran(fake)


def test_broken_known_hosts_lines_are_skipped(ssh_lab: Lab) -> None:
    fake = ssh_lab.host(known=False)
    ssh_lab.known_hosts.write_text(
        "garbage\n|1|bad|salt ssh-ed25519 AAAA\n@cert-authority * ssh-ed25519 AAAA\n"
        f"[{fake.host.address}]:{fake.host.port} ssh-ed25519 !!notbase64\n"
    )
    ssh_lab.trust(fake)
    with _connect(ssh_lab, fake.host) as machine:
        assert machine.run("true").code == 0


def test_a_key_pinned_in_the_inventory_is_the_only_key_trusted(ssh_lab: Lab, tmp_path: Path) -> None:
    fake = ssh_lab.host(known=False)
    nowhere = tmp_path / "no-known-hosts"
    pinned = replace(fake.host, host_key=fake.host_key)
    with connect(pinned, identity=str(ssh_lab.identity), known_hosts=nowhere) as machine:
        assert machine.run("echo pinned").out == "pinned\n"
    assert not nowhere.exists()
    _, other = _pair()
    ssh_lab.trust(fake)  # known_hosts trusts it, but the pin wins
    with pytest.raises(
        ChangedHostKey, match=r"but the inventory's host_key expects ssh-ed25519 key SHA256:"
    ) as caught:
        connect(
            replace(fake.host, host_key=other),
            identity=str(ssh_lab.identity),
            known_hosts=ssh_lab.known_hosts,
        )
    assert fingerprint(other) in str(caught.value)


def _key_texts() -> dict[str, tuple[str, str]]:
    """Kind → (private key text, public key line) for ed25519, ecdsa and rsa in both formats."""
    ecdsa = ec.generate_private_key(ec.SECP256R1())
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    openssh, pem = serialization.PrivateFormat.OpenSSH, serialization.PrivateFormat.TraditionalOpenSSL
    none = serialization.NoEncryption()

    def public(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
        raw = key.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
        return raw.decode()

    def private(
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, form: serialization.PrivateFormat
    ) -> str:
        return key.private_bytes(serialization.Encoding.PEM, form, none).decode()

    return {
        "ed25519": _pair(),
        "ecdsa-openssh": (private(ecdsa, openssh), public(ecdsa)),
        "ecdsa-pem": (private(ecdsa, pem), public(ecdsa)),
        "rsa-pem-crlf": (private(rsa_key, pem).replace("\n", "\r\n"), public(rsa_key)),
    }


def test_the_key_text_of_cml_ssh_key_works_for_each_key_type(ssh_lab: Lab) -> None:
    fake = ssh_lab.host()
    for kind, (text, public) in _key_texts().items():
        ssh_lab.authorize(public)
        identity = identity_from(None, {"CML_SSH_KEY": text})
        assert identity == text.strip()
        with connect(fake.host, identity=identity, known_hosts=ssh_lab.known_hosts) as machine:
            assert machine.run(f"echo {kind}").out == f"{kind}\n"
        middle = text.strip().splitlines()[-2].strip()  # the private part, not the common header
        assert middle not in redact(f"log line with {middle}")  # registered as a secret
        for path in fake.root.rglob("*"):  # the key never reached the host
            if path.is_file():
                assert middle not in path.read_text(errors="replace")
    assert identity_from("keyfile", {"CML_SSH_KEY": "x"}) == "keyfile"
    assert identity_from(None, {"CML_SSH_KEY": " \n"}) is None


def test_a_bad_identity_is_refused_without_showing_it(ssh_lab: Lab, tmp_path: Path) -> None:
    fake = ssh_lab.host()
    secret_line = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW"
    garbage = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{secret_line}\n-----END OPENSSH PRIVATE KEY-----\n"
    encrypted = (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.OpenSSH,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
        .decode()
    )
    cases = [
        (garbage, "CML_SSH_KEY: not an ed25519, ecdsa or rsa private key (OpenSSH or PEM format)"),
        (encrypted, "CML_SSH_KEY: the private key is encrypted; cml never asks for a passphrase"),
        (str(tmp_path / "nokey"), f"{tmp_path / 'nokey'}: no such file"),
    ]
    for identity, message in cases:
        with pytest.raises(InputError) as caught:
            connect(fake.host, identity=identity, known_hosts=ssh_lab.known_hosts)
        assert caught.value.exit_code == 2
        assert _one_line(caught.value).startswith(message)
        assert secret_line not in str(caught.value)
    with pytest.raises(
        ConfigError, match=r"^no SSH identity \(pass --identity KEY_FILE or set CML_SSH_KEY"
    ) as none:
        connect(fake.host, identity=None, known_hosts=ssh_lab.known_hosts)
    assert none.value.exit_code == 3
    assert fake.logins() == 0


def test_a_host_that_refuses_our_key_or_is_down_is_a_host_error(ssh_lab: Lab, tmp_path: Path) -> None:
    fake = ssh_lab.host()
    stranger = tmp_path / "stranger"
    stranger.write_text(_pair()[0])
    with pytest.raises(HostError) as caught:
        connect(fake.host, identity=str(stranger), known_hosts=ssh_lab.known_hosts)
    assert caught.value.exit_code == 4
    assert _one_line(caught.value) == (
        f"host {fake.host.name} refused our key for user root "
        "(add the identity's public key to ~root/.ssh/authorized_keys on the host)"
    )
    fake.kill()
    with pytest.raises(HostError, match=rf"^host {fake.host.name} is unreachable: ") as down:
        _connect(ssh_lab, fake.host)
    assert down.value.exit_code == 4


def test_a_jump_host_is_verified_then_forwards_the_connection(ssh_lab: Lab) -> None:
    bastion, target = ssh_lab.host(), ssh_lab.host()
    through = replace(target.host, jump=bastion.host)
    with _connect(ssh_lab, through) as machine:
        assert machine.run("uname -m").out == "x86_64\n"
    assert f"target {target.host.address} port {target.host.port}" in bastion.log_text()
    assert "direct-tcpip" in bastion.log_text()
    assert bastion.execs() == 0
    assert target.execs() == 1

    stranger = ssh_lab.host(known=False)
    with pytest.raises(UnknownHostKey, match=rf"^host {stranger.host.name} offered an unknown"):
        _connect(ssh_lab, replace(target.host, jump=stranger.host))
    _nothing_ran(stranger)

    closed = replace(target.host, port=1, jump=bastion.host)
    with pytest.raises(
        HostError, match=rf"^host {closed.name}: the jump host {bastion.host.name} cannot reach it"
    ):
        _connect(ssh_lab, closed)


def test_a_hanging_command_is_killed_at_its_timeout(ssh_lab: Lab) -> None:
    fake = ssh_lab.host()
    with _connect(ssh_lab, fake.host) as machine:
        with pytest.raises(HostError) as caught:
            machine.run("uname -m; sleep 600 & sleep 601", timeout=1)
        assert caught.value.exit_code == 4
        assert _one_line(caught.value) == (
            f"host {fake.host.name}: `uname -m; sleep 600 & sleep 601` did not finish within 1 s; killed"
        )
        assert fake.ran() == ["uname -m"]  # it did start
        assert _wait(lambda: not _marked(fake.marker))  # the whole process group is gone
        assert machine.run("echo still here").out == "still here\n"


def test_a_hanging_command_of_a_non_root_user_is_killed_too(ssh_lab: Lab) -> None:
    fake = ssh_lab.host(user=nonroot_user())
    with _connect(ssh_lab, fake.host) as machine:
        assert machine.run("id -un").out == f"{fake.host.user}\n"
        with pytest.raises(HostError, match=r"did not finish within 0\.5 s; killed"):
            machine.run("sleep 600", timeout=0.5)
        assert _wait(lambda: not _marked(fake.marker))


def test_sshd_killed_mid_command_is_a_one_line_host_error(ssh_lab: Lab) -> None:
    fake = ssh_lab.host()
    with _connect(ssh_lab, fake.host) as machine:
        threading.Timer(0.5, fake.kill).start()
        with pytest.raises(HostError) as caught:
            machine.run("sleep 60")
        assert caught.value.exit_code == 4
        assert _one_line(caught.value) == f"host {fake.host.name}: connection lost running `sleep 60`"
        with pytest.raises(HostError, match=rf"^host {fake.host.name}: connection lost running `true`$"):
            machine.run("true")
        with pytest.raises(HostError, match=rf"^host {fake.host.name}: cannot start SFTP"):
            machine.put(b"x", "/tmp/x")


def test_run_feeds_stdin_and_keeps_streams_and_exit_code_apart(ssh_lab: Lab) -> None:
    fake = ssh_lab.host()
    data = bytes(range(256)) * 4096  # 1 MiB, more than any SSH window
    with _connect(ssh_lab, fake.host) as machine:
        done = machine.run("cat >/dev/null; printf '%s' \"$0\"; echo to-err >&2; exit 3", stdin=data)
        assert (done.code, done.out, done.err) == (3, "sh", "to-err\n")
        line = "token=abc\n"
        assert machine.run('read -r x; echo "$x"', stdin=line.encode()).out == line
        text = "".join(f"line {i}\n" for i in range(200_000))  # 2 MB both ways
        echoed = machine.run("cat; cat >&2 <<EOF\nerr\nEOF", stdin=text.encode())
        assert (echoed.out, echoed.err) == (text, "err\n")
        assert machine.run("kill -9 $$").code == -1
    assert fake.execs() == 4


def test_put_writes_atomically_with_its_mode(ssh_lab: Lab) -> None:
    fake = ssh_lab.host()
    target = fake.home / "runner" / "package.tar.gz"
    target.parent.mkdir()
    target.write_bytes(b"old")
    payload = bytes(range(256)) * 1000
    with _connect(ssh_lab, fake.host) as machine:
        machine.put(payload, str(target), mode=0o600)
        assert target.read_bytes() == payload
        assert target.stat().st_mode & 0o777 == 0o600
        machine.put(b"#!/bin/sh\n", str(target.with_name("run.sh")), mode=0o755)
        assert target.with_name("run.sh").stat().st_mode & 0o777 == 0o755
        with pytest.raises(HostError) as caught:
            machine.put(b"x", str(fake.home / "nowhere" / "file"))
        assert (
            _one_line(caught.value)
            == f"host {fake.host.name}: cannot write {fake.home}/nowhere/file: No such file"
        )
        (target.parent / "ro").mkdir(mode=0o555)
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "package.tar.gz",
        "ro",
        "run.sh",
    ]  # no temp files
    assert fake.sftp_sessions() == 1


def _wait(condition: Callable[[], bool], seconds: float = 5) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_a_server_that_never_speaks_ssh_is_a_host_error_within_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        host = Host(user="root", address="127.0.0.1", port=server.getsockname()[1])
        started = time.monotonic()
        with pytest.raises(HostError) as caught:
            connect(host, identity=_pair()[0], known_hosts=Path("/nonexistent"), timeout=1)
    assert caught.value.exit_code == 4
    assert _one_line(caught.value).startswith(f"host {host.name}: SSH failed: ")
    assert time.monotonic() - started < 10
    time.sleep(0.3)  # paramiko's thread logs the failure after connect returned, if it logs at all
    assert [r.getMessage() for r in caplog.records if r.name.startswith("paramiko")] == []


def test_a_dropped_sshd_leaves_the_command_running_and_comes_back(ssh_lab: Lab) -> None:
    fake = ssh_lab.host()
    with _connect(ssh_lab, fake.host) as machine:
        threading.Timer(0.5, fake.drop).start()
        with pytest.raises(HostError, match=rf"^host {re.escape(fake.host.name)}: connection lost running"):
            machine.run("sleep 30")
    assert _marked(fake.marker)  # the command outlived its connection
    fake.start()
    with _connect(ssh_lab, fake.host) as machine:
        assert machine.run("echo back").out == "back\n"
    fake.stop()
    assert _wait(lambda: not _marked(fake.marker))
