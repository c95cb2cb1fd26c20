"""cml.runner.hosts: ``-H`` specs and inventories, every field checked, errors naming flag or file+field."""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import pytest

from cml.errors import InputError, UsageError
from cml.runner import Host
from cml.runner.hosts import check_host_key, load_inventory, parse_host, parse_labels

ED25519 = (
    "ssh-ed25519 "
    + base64.b64encode(struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + bytes(32)).decode()
)


@pytest.mark.parametrize(
    ("spec", "host"),
    [
        ("root@gpu1", Host(user="root", address="gpu1", port=22)),
        ("ci@gpu1.example.com:2222", Host(user="ci", address="gpu1.example.com", port=2222)),
        ("ubuntu@10.0.0.7:22", Host(user="ubuntu", address="10.0.0.7", port=22)),
        ("ubuntu@[::1]:2200", Host(user="ubuntu", address="::1", port=2200)),
        ("ubuntu@[fe80::1%eth0]", Host(user="ubuntu", address="fe80::1%eth0", port=22)),
        ("a.b-c_d@host_1", Host(user="a.b-c_d", address="host_1", port=22)),
    ],
)
def test_a_host_spec_is_parsed(spec: str, host: Host) -> None:
    assert parse_host(spec) == host


@pytest.mark.parametrize(
    ("spec", "why"),
    [
        ("gpu1", "the user is required"),
        ("root@", "expected user@host"),
        ("-oProxyCommand=x@gpu1", "user '-oProxyCommand=x' may not start with '-'"),
        ("root@-oProxyCommand=touch", "host '-oProxyCommand=touch' may not start with '-'"),
        ("root@gpu1:0", "port 0: expected a number from 1 to 65535"),
        ("root@gpu1:65536", "port 65536"),
        ("root@gpu1:22x", "port '22x'"),
        ("root@gpu1:", "port ''"),
        ("root@::1", "an IPv6 address needs brackets"),
        ("root@[::1", "expected [IPv6]:port"),
        ("root@[::1]x", "expected [IPv6]:port"),
        ("root@[gpu1]:22", "brackets are for IPv6 addresses"),
        ("root@[::g]:22", "is not an IPv6 address"),
        ("root@gpu 1", "expected a host name or an IP address"),
        ("root@gpu1;reboot", "expected a host name or an IP address"),
        ("ro ot@gpu1", "user 'ro ot'"),
        ("root@" + "a" * 64, "expected a host name"),
    ],
)
def test_a_bad_host_spec_is_refused_naming_the_flag(spec: str, why: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_host(spec)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith(f"-H/--host {spec!r}: ")
    assert why in str(caught.value)
    assert "\n" not in str(caught.value)


def test_labels_are_checked_and_deduplicated_ignoring_case() -> None:
    assert parse_labels("train, A100,a100,,gpu-x") == ("train", "A100", "gpu-x")
    for bad in ("-x", "a b", "a/b", "é", "x" * 101):
        with pytest.raises(UsageError, match=rf"^--labels .*: label '{bad}': expected letters") as caught:
            parse_labels(f"ok,{bad}")
        assert caught.value.exit_code == 2
    with pytest.raises(UsageError, match="101 labels, at most 100"):
        parse_labels(",".join(f"l{i}" for i in range(101)))


def test_a_pinned_host_key_must_be_a_public_key_of_its_type() -> None:
    assert check_host_key(ED25519 + " root@gpu1") == ED25519
    rsa_claim = "ssh-rsa " + ED25519.split()[1]
    for bad, why in [
        ("AAAA", "expected 'TYPE BASE64'"),
        ("ssh-dss AAAA", "expected 'TYPE BASE64'"),
        ("ssh-ed25519 ###", "not valid base64"),
        ("ssh-ed25519 AAAA", "not valid base64"),
        (rsa_claim, "the key says ssh-rsa but its data holds a ssh-ed25519 key"),
    ]:
        with pytest.raises(ValueError, match=why):
            check_host_key(bad)


def _inventory(tmp_path: Path, text: str, name: str = "hosts.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_an_inventory_gives_hosts_with_defaults_jump_and_pinned_key(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "ci").write_text("key")
    path = _inventory(
        tmp_path,
        f"""
defaults:
  user: ubuntu
  key: keys/ci
  labels: [train]
hosts:
  - ci@arm1.example.com:2222
  - host: gpu1.example.com
    labels: a100, train, A100
    count: 2
    host_key: {ED25519} comment
    jump: ops@bastion:2200
  - host: "[::1]"
    user: admin
    port: 22022
    jump: {{host: bastion, user: ops, host_key: {ED25519}}}
""",
    )
    key = str(tmp_path / "keys" / "ci")
    assert load_inventory(path) == [
        Host(user="ci", address="arm1.example.com", port=2222, key=key, labels=("train",)),
        Host(
            user="ubuntu",
            address="gpu1.example.com",
            key=key,
            labels=("a100", "train"),
            count=2,
            host_key=ED25519,
            jump=Host(user="ops", address="bastion", port=2200),
        ),
        Host(
            user="admin",
            address="::1",
            port=22022,
            key=key,
            labels=("train",),
            jump=Host(user="ops", address="bastion", host_key=ED25519),
        ),
    ]


def test_a_bare_list_is_an_inventory_too(tmp_path: Path) -> None:
    assert load_inventory(_inventory(tmp_path, "- root@a\n- root@b:2\n", "hosts.yml")) == [
        Host(user="root", address="a"),
        Host(user="root", address="b", port=2),
    ]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "expected a mapping with 'hosts:'"),
        ("hosts: []", "hosts: expected a non-empty list"),
        ("hosts: root@a", "hosts: expected a non-empty list"),
        ("host: [root@a]", "unknown key 'host' (expected hosts, defaults)"),
        ("defaults: {host: a}\nhosts: [root@a]", "defaults: expected a mapping of host fields"),
        ("defaults: {colour: red}\nhosts: [root@a]", "defaults: unknown field 'colour'"),
        ("hosts: [a]", "hosts[0].user: missing"),
        ("hosts: [[a]]", "hosts[0]: expected user@host[:port] or a mapping"),
        ("hosts: [{user: root}]", "hosts[0].host: expected user@host[:port] or a host name"),
        ("hosts: [{host: a, usr: root}]", "hosts[0]: unknown field 'usr'"),
        ("hosts: [root@a, {host: '-oX', user: root}]", "hosts[1].host: host '-oX' may not start with '-'"),
        ("hosts: [{host: a, user: -oX}]", "hosts[0].user: user '-oX' may not start with '-'"),
        ("hosts: [{host: a, user: 7}]", "hosts[0].user: user 7: expected a user name"),
        (
            "hosts: [{host: a, user: r, port: 70000}]",
            "hosts[0].port: port 70000: expected a number from 1 to 65535",
        ),
        ("hosts: [{host: a, user: r, port: true}]", "hosts[0].port: port True"),
        (
            "hosts: [{host: a, user: r, count: 0}]",
            "hosts[0].count: 0: expected a number of runners from 1 to 64",
        ),
        ("hosts: [{host: a, user: r, count: 65}]", "hosts[0].count: 65"),
        ("hosts: [{host: a, user: r, labels: [ok, 'a b']}]", "hosts[0].labels: label 'a b'"),
        ("hosts: [{host: a, user: r, labels: {a: 1}}]", "hosts[0].labels: expected a list of labels"),
        ("hosts: [{host: a, user: r, labels: [1]}]", "hosts[0].labels: label 1"),
        ("hosts: [{host: a, user: r, key: nope}]", "hosts[0].key: {dir}/nope: no such file"),
        ("hosts: [{host: a, user: r, key: 3}]", "hosts[0].key: expected the path of a private key file"),
        ("hosts: [{host: a, user: r, host_key: AAAA}]", "hosts[0].host_key: expected 'TYPE BASE64'"),
        ("hosts: [{host: a, user: r, host_key: [x]}]", "hosts[0].host_key: expected 'TYPE BASE64'"),
        ("hosts: [{host: a, user: r, jump: b}]", "hosts[0].jump.user: missing"),
        ("hosts: [{host: a, user: r, jump: [b]}]", "hosts[0].jump: expected user@host[:port] or a mapping"),
        ("hosts: [{host: a, user: r, jump: {host: r@b, count: 2}}]", "hosts[0].jump: unknown field 'count'"),
        ("hosts: [{host: a, user: r, jump: {host: r@b, jump: r@c}}]", "hosts[0].jump: unknown field 'jump'"),
        ("hosts: [{host: 'r@a:x'}]", "hosts[0].host: port 'x'"),
        ("hosts: [r@a, r@A:22]", "hosts[1]: r@A:22 is already hosts[0]"),
        ("hosts: [r@a\n", "invalid YAML"),
        ("a: &a [*a]", "hosts.yaml: "),
    ],
)
def test_a_bad_inventory_is_refused_naming_file_and_field(tmp_path: Path, text: str, why: str) -> None:
    path = _inventory(tmp_path, text)
    with pytest.raises(InputError) as caught:
        load_inventory(path)
    message = str(caught.value)
    assert caught.value.exit_code == 2
    assert message.startswith(f"{path}: ")
    assert why.format(dir=tmp_path) in message
    assert "\n" not in message


def test_too_many_hosts_and_too_big_a_file_are_refused(tmp_path: Path) -> None:
    many = _inventory(tmp_path, "hosts:\n" + "".join(f"  - r@h{i}\n" for i in range(1001)))
    with pytest.raises(InputError, match=r"hosts: 1001 hosts, at most 1000"):
        load_inventory(many)
    big = _inventory(tmp_path, "# " + "x" * 1_000_000 + "\nhosts: [r@a]\n", "big.yaml")
    with pytest.raises(InputError, match=r"big\.yaml: 1,000,016 bytes, over cml's limit"):
        load_inventory(big)


def test_an_inventory_must_be_a_yaml_file_that_exists(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"hosts\.json: an inventory is a YAML file"):
        load_inventory(_inventory(tmp_path, "[]", "hosts.json"))
    with pytest.raises(InputError, match=r"missing\.yaml: no such file"):
        load_inventory(tmp_path / "missing.yaml")
    (tmp_path / "dir.yaml").mkdir()
    with pytest.raises(InputError, match=r"dir\.yaml: is a directory"):
        load_inventory(tmp_path / "dir.yaml")
