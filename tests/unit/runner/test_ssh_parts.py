"""cml.runner.ssh without a server: known_hosts matching, the command wrapper, identities."""

from __future__ import annotations

import base64
import shutil
import struct
import subprocess
from pathlib import Path

import paramiko
import pytest

from cml.errors import InputError
from cml.runner import Host
from cml.runner.hosts import check_host_key
from cml.runner.ssh import _glob, _names_match, _take_pid, _wrap, connect, known_hosts_name, load_key
from tests.integration.runner.sshd import _pair


def test_known_hosts_names_follow_openssh() -> None:
    assert known_hosts_name(Host(user="u", address="gpu1")) == "gpu1"
    assert known_hosts_name(Host(user="u", address="gpu1", port=2222)) == "[gpu1]:2222"
    assert known_hosts_name(Host(user="u", address="::1", port=2222)) == "[::1]:2222"


def test_names_match_plain_hashed_and_patterns() -> None:
    hashed = paramiko.HostKeys.hash_host("[gpu1]:2222")
    assert _names_match(hashed, "[gpu1]:2222")
    assert not _names_match(hashed, "[gpu1]:2223")
    assert _names_match("a,[gpu1]:2222,b", "[gpu1]:2222")
    assert not _names_match("gpu1", "[gpu1]:2222")
    for broken in ("|1|", "|1|!!|??", "|1|c2FsdA==", "|1|c2FsdA==|x|y"):
        assert not _names_match(broken, "gpu1")
    assert not _names_match("*", "gpu1")  # patterns never make a key trusted
    assert _names_match("*", "gpu1", patterns=True)  # but they do revoke
    assert _names_match("!gpu2,[gpu?]:*", "[gpu1]:22", patterns=True)
    assert not _names_match("!gpu1", "gpu1", patterns=True)


def test_openssh_patterns_take_brackets_literally() -> None:
    assert _glob("[127.0.0.*]:*").fullmatch("[127.0.0.5]:2222")
    assert not _glob("[127.0.0.*]:*").fullmatch("127.0.0.5")
    assert _glob("gpu?.lab").fullmatch("gpu1.lab")
    assert not _glob("gpu?.lab").fullmatch("gpu1xlab")


def test_the_pid_line_is_found_after_login_shell_noise_and_cut_out() -> None:
    err = bytearray(b"bash: warning: setlocale\ncml-pid=4242\nreal stderr\ncml-pid=1\n")
    assert _take_pid(err) == 4242
    assert err == b"bash: warning: setlocale\nreal stderr\ncml-pid=1\n"
    partial = bytearray(b"cml-pid=42")
    assert _take_pid(partial) is None
    assert _take_pid(bytearray(b"x" * 70_000)) == 0
    assert _take_pid(bytearray(b"not-cml-pid=3\n")) is None


@pytest.mark.parametrize("shell", ["sh", "bash", "dash", "busybox sh"])
def test_the_wrapper_runs_any_command_under_sh_for_a_login_shell(shell: str) -> None:
    if shutil.which(shell.split(maxsplit=1)[0]) is None:
        pytest.skip(f"{shell} is not installed")
    command = (
        "printf '%s|%s\\n' \"$0\" 'it'\"'\"'s $HOME `x`'; read -r line; echo \"got $line\"\necho err >&2"
    )
    done = subprocess.run(
        [*shell.split(), "-c", _wrap(command)], input=b"secret\n", capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == b"sh|it's $HOME `x`\ngot secret\n"
    err = bytearray(done.stderr)
    assert _take_pid(err)
    assert err == b"err\n"


def test_an_identity_file_is_read_and_a_bad_one_named(tmp_path: Path) -> None:
    path = tmp_path / "id"
    path.write_text(_pair()[0])
    assert load_key(str(path)).get_name() == "ssh-ed25519"
    path.write_text("not a key")
    with pytest.raises(InputError, match=rf"^{path}: not an ed25519, ecdsa or rsa private key") as caught:
        load_key(str(path))
    assert caught.value.exit_code == 2
    (tmp_path / "big").write_text("x" * 70_000)
    with pytest.raises(InputError, match="over cml's limit"):
        load_key(str(tmp_path / "big"))


def test_a_pinned_key_with_bad_key_material_is_refused_before_connecting(tmp_path: Path) -> None:
    blob = struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 5) + b"short"
    pinned = f"ssh-ed25519 {base64.b64encode(blob).decode()}"
    assert check_host_key(pinned) == pinned  # the shape is right
    identity = tmp_path / "id"
    identity.write_text(_pair()[0])
    host = Host(user="root", address="127.0.0.1", port=9, host_key=pinned)
    with pytest.raises(
        InputError, match=r"^host root@127\.0\.0\.1:9: host_key: not a valid ssh-ed25519 public key$"
    ):
        connect(host, identity=str(identity), known_hosts=tmp_path / "known_hosts")
