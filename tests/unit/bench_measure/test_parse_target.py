"""cml.bench.targets.parse_target: local, ssh://user@host[:port], adb://SERIAL; nothing else, and
nothing that could become an option of ssh or adb."""

from __future__ import annotations

from pathlib import Path

import pytest

from cml.bench.targets import AdbTarget, LocalTarget, SshTarget, TargetOptions, parse_target
from cml.errors import UsageError


def test_local() -> None:
    target = parse_target("local")
    assert isinstance(target, LocalTarget)
    assert target.info.name == "local"
    assert target.info.device is False


@pytest.mark.parametrize(
    ("spec", "user", "address", "port", "name"),
    [
        ("ssh://pi@10.0.0.5", "pi", "10.0.0.5", 22, "ssh://pi@10.0.0.5"),
        ("ssh://ci@board.local:2222", "ci", "board.local", 2222, "ssh://ci@board.local:2222"),
        ("ssh://root@[::1]:22", "root", "::1", 22, "ssh://root@::1"),
    ],
)
def test_ssh(spec: str, user: str, address: str, port: int, name: str) -> None:
    target = parse_target(spec, TargetOptions(setup=True))
    assert isinstance(target, SshTarget)
    assert (target.host.user, target.host.address, target.host.port) == (user, address, port)
    assert target.info.name == name
    assert target.info.device is True
    assert target.options.setup is True


@pytest.mark.parametrize("serial", ["R58M12345", "emulator-5554", "192.168.1.7:5555", "usb_1.2"])
def test_adb(serial: str) -> None:
    target = parse_target(f"adb://{serial}")
    assert isinstance(target, AdbTarget)
    assert target.serial == serial
    assert target.info.name == f"adb://{serial}"
    assert target.info.runtime == "benchmark_model (user binary)"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("-oProxyCommand=touch x", "--target '-oProxyCommand=touch x' may not start with '-'"),
        (
            "ssh://-oProxyCommand=x@host",
            "--target 'ssh://-oProxyCommand=x@host': user '-oProxyCommand=x' may not start with '-'",
        ),
        (
            "ssh://pi@-oProxyCommand=x",
            "--target 'ssh://pi@-oProxyCommand=x': host '-oProxyCommand=x' may not start with '-'",
        ),
        ("ssh://board", "--target 'ssh://board': expected ssh://user@host[:port] (the user is required)"),
        (
            "ssh://pi@board:99999",
            "--target 'ssh://pi@board:99999': port 99999: expected a number from 1 to 65535",
        ),
        (
            "ssh://pi@bo ard",
            "--target 'ssh://pi@bo ard': host 'bo ard': expected a host name or an IP address",
        ),
        ("adb://-s", "--target 'adb://-s': expected adb://SERIAL (letters, digits, '.', '_', ':', '-')"),
        ("adb://", "--target 'adb://': expected adb://SERIAL (letters, digits, '.', '_', ':', '-')"),
        (
            "adb://a;reboot",
            "--target 'adb://a;reboot': expected adb://SERIAL (letters, digits, '.', '_', ':', '-')",
        ),
        ("adb:R58M", "--target 'adb:R58M': expected local, ssh://user@host[:port] or adb://SERIAL"),
        ("Local", "--target 'Local': expected local, ssh://user@host[:port] or adb://SERIAL"),
        ("", "--target '': expected local, ssh://user@host[:port] or adb://SERIAL"),
    ],
)
def test_anything_else_is_a_usage_error(spec: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_target(spec)
    assert caught.value.exit_code == 2
    assert str(caught.value) == message
    assert "\n" not in str(caught.value)


def test_options_by_keyword_as_the_orchestration_passes_them() -> None:
    target = parse_target(
        "ssh://pi@board", setup=True, identity=Path("keys/ci"), known_hosts=Path("kh"), accept_new=True
    )
    assert isinstance(target, SshTarget)
    assert target.options == TargetOptions(
        setup=True, identity=Path("keys/ci"), known_hosts=Path("kh"), accept_new=True
    )
    adb = parse_target("adb://R58M", TargetOptions(setup=True), benchmark_binary=Path("bm"))
    assert isinstance(adb, AdbTarget)
    assert adb.options == TargetOptions(setup=True, benchmark_binary=Path("bm"))


def test_an_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_target("local", sudo=True)
