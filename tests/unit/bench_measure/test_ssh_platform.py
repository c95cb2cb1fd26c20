"""cml.bench.targets: what an ssh host's probe says, which hosts ai-edge-litert has wheels for, and the
wheel platform tags fetched for them."""

from __future__ import annotations

import json

import pytest

from cml.bench.targets import Platform, parse_probe, unsupported, wheel_platforms
from cml.errors import ConfigError, HostError


def _probe(**over: object) -> str:
    data = {
        "system": "Linux",
        "machine": "aarch64",
        "libc": ["glibc", "2.31"],
        "musl": False,
        "python": "3.11",
        "mac": "",
        "executable": "/usr/bin/python3",
        "runtime": False,
    }
    return "motd noise\n" + json.dumps({**data, **over}) + "\n"


def test_a_probe_is_read() -> None:
    assert parse_probe(_probe(), "ssh://pi@h") == Platform(
        system="Linux",
        machine="aarch64",
        glibc=(2, 31),
        musl=False,
        python="3.11",
        mac="",
        runtime=False,
        executable="/usr/bin/python3",
    )


def test_no_python3_names_it() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_probe("no-python3\n", "ssh://pi@h")
    assert str(caught.value).startswith("ssh://pi@h has no python3 (install Python 3 there, or time it")
    assert caught.value.exit_code == 3


def test_garbage_is_a_host_error() -> None:
    with pytest.raises(HostError, match=r"^ssh://pi@h: the probe printed something unexpected$"):
        parse_probe("Traceback (most recent call last):\n", "ssh://pi@h")


@pytest.mark.parametrize(
    ("over", "why"),
    [
        ({}, ""),
        ({"machine": "x86_64", "libc": ["glibc", "2.27"]}, ""),
        ({"system": "Darwin", "machine": "arm64", "libc": ["", ""], "mac": "14.5"}, ""),
        ({"machine": "armv7l"}, "Linux on armv7l"),
        ({"libc": ["", ""], "musl": True}, "Linux with musl libc"),
        ({"libc": ["glibc", "2.24"]}, "glibc 2.24 (ai-edge-litert needs 2.27 or later)"),
        ({"system": "Darwin", "machine": "x86_64", "libc": ["", ""]}, "macOS on x86_64"),
        ({"system": "FreeBSD", "machine": "amd64", "libc": ["", ""]}, "FreeBSD"),
    ],
)
def test_which_hosts_have_wheels(over: dict[str, object], why: str) -> None:
    assert unsupported(parse_probe(_probe(**over), "h")) == why


def test_wheel_platforms_for_linux_go_down_to_manylinux2014() -> None:
    tags = wheel_platforms(parse_probe(_probe(), "h"))
    assert tags[0] == "manylinux_2_31_aarch64"
    assert "manylinux_2_27_aarch64" in tags
    assert tags[-2:] == ["manylinux_2_17_aarch64", "manylinux2014_aarch64"]


def test_wheel_platforms_for_macos() -> None:
    plat = parse_probe(_probe(system="Darwin", machine="arm64", libc=["", ""], mac="13.2"), "h")
    assert wheel_platforms(plat) == ["macosx_13_0_arm64", "macosx_12_0_arm64", "macosx_11_0_arm64"]
