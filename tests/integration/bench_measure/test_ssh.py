"""SshTarget over real loopback sshd servers (the ``cml runner`` lab): the harness and models copied,
run by the host's python3 with real ai-edge-litert, JSON brought back, the folder removed; the host-key
rules of cml.runner.ssh; a host without the runtime, or that cannot have it; ``--setup``."""

from __future__ import annotations

import glob
import json
import logging
import sys
import zipfile
from pathlib import Path

import pytest

from cml.bench import Method
from cml.bench.targets import SshTarget, TargetOptions, parse_target
from cml.errors import ConfigError
from cml.runner.ssh import UnknownHostKey
from tests.integration.runner.sshd import FakeHost, Lab

pytestmark = pytest.mark.slow
QUICK = Method(warmup=1, warmup_secs=0.0, runs=6, min_secs=0.0, repeats=2, threads=(1,), seed=1)
#: The host's python3 is this venv's python, which has ai-edge-litert (the host shares our filesystem).
VENV_PYTHON = f'exec {sys.executable} "$@"'


def _target(lab: Lab, fake: FakeHost, **options: object) -> SshTarget:
    spec = f"ssh://{fake.host.user}@{fake.host.address}:{fake.host.port}"
    target = parse_target(
        spec,
        TargetOptions(identity=str(lab.identity), known_hosts=lab.known_hosts, **options),
    )
    assert isinstance(target, SshTarget)
    return target


def _leftovers() -> set[str]:
    return set(glob.glob("/tmp/cml-bench.*")) | set(glob.glob("/tmp/cml-wheels.*"))


def test_ssh_target_times_real_models_and_cleans_up(
    ssh_lab: Lab, tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    fake = ssh_lab.host(bins={"python3": VENV_PYTHON})
    corrupt = tmp_path / "corrupt.tflite"
    corrupt.write_bytes(b"not a flatbuffer at all" * 10)
    before = _leftovers()
    target = _target(ssh_lab, fake)
    timed = target.time(
        {"fp32": tiny_models["fp32"], "int8": tiny_models["int8"], "dynamic": corrupt},
        QUICK,
        tiny_models["inputs"],
    )
    assert set(timed) == {"fp32", "int8"}
    for per_threads in timed.values():
        latency = per_threads[1]
        assert latency.runs == 6
        assert 0 < latency.min <= latency.median <= latency.p99
        assert latency.init_ms
        assert latency.first_ms
        assert latency.peak_rss_kb
    assert target.errors == {"dynamic": "The model is not a valid Flatbuffer buffer"}
    assert target.info.name == f"ssh://root@{fake.host.address}:{fake.host.port}"
    assert target.info.device is True
    assert target.info.runtime.startswith("ai-edge-litert ")
    assert target.info.arch == "x86_64"
    assert target.info.cores >= 1
    assert fake.logins() == 1  # one connection for the probe, the copies, the run and the clean-up
    assert fake.sftp_sessions() == 1
    assert fake.ran() == ["python3 -I -"]  # the probe; the harness ran with the python the probe named
    assert _leftovers() == before  # the temp folder is gone


def test_the_identity_can_come_from_cml_ssh_key(
    ssh_lab: Lab,
    tiny_models: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    fake = ssh_lab.host(bins={"python3": VENV_PYTHON})
    monkeypatch.setenv("CML_SSH_KEY", ssh_lab.identity_text)
    spec = f"ssh://{fake.host.user}@{fake.host.address}:{fake.host.port}"
    target = parse_target(spec, known_hosts=ssh_lab.known_hosts)
    assert target.time({"fp32": tiny_models["fp32"]}, QUICK, None)["fp32"][1].runs == 6
    assert fake.logins() == 1
    out, err = capfd.readouterr()
    secret = ssh_lab.identity_text.strip().splitlines()[1]
    assert secret not in out + err


def test_an_unknown_host_key_is_refused_before_anything_is_copied(
    ssh_lab: Lab, tiny_models: dict[str, Path]
) -> None:
    fake = ssh_lab.host(known=False, bins={"python3": VENV_PYTHON})
    with pytest.raises(UnknownHostKey) as caught:
        _target(ssh_lab, fake).time({"fp32": tiny_models["fp32"]}, QUICK, None)
    assert caught.value.exit_code == 3
    assert str(caught.value).startswith(f"host {fake.host.name} offered an unknown ssh-ed25519 key")
    assert fake.logins() == 0
    assert fake.ran() == []


def test_a_host_without_ai_edge_litert_names_setup(ssh_lab: Lab, tiny_models: dict[str, Path]) -> None:
    fake = ssh_lab.host(bins={"python3": 'exec /usr/bin/python3 "$@"'})  # Debian's: no ai-edge-litert
    before = _leftovers()
    with pytest.raises(ConfigError) as caught:
        _target(ssh_lab, fake).time({"fp32": tiny_models["fp32"]}, QUICK, None)
    assert caught.value.exit_code == 3
    name = f"ssh://root@{fake.host.address}:{fake.host.port}"
    assert str(caught.value) == (
        f"{name}: ai-edge-litert is not installed for the host's python3 "
        "(pass --setup to make a venv with it in $HOME/.cache/cml-bench/venv)"
    )
    assert fake.sftp_sessions() == 0  # nothing was copied
    assert _leftovers() == before


def _probe_says(machine: str, libc: list[str], musl: bool = False) -> str:
    answer = {
        "system": "Linux", "machine": machine, "libc": libc, "musl": musl, "python": "3.11", "mac": "",
        "executable": "/usr/bin/python3", "runtime": False,
    }  # fmt: skip
    return f"cat >/dev/null; echo '{json.dumps(answer)}'"


@pytest.mark.parametrize(
    ("machine", "libc", "musl", "why"),
    [
        ("armv7l", ["glibc", "2.31"], False, "Linux on armv7l"),
        ("aarch64", ["", ""], True, "Linux with musl libc"),
        ("x86_64", ["glibc", "2.24"], False, "glibc 2.24 (ai-edge-litert needs 2.27 or later)"),
    ],
)
def test_a_host_ai_edge_litert_has_no_wheels_for_points_at_adb(
    ssh_lab: Lab, tiny_models: dict[str, Path], machine: str, libc: list[str], musl: bool, why: str
) -> None:
    fake = ssh_lab.host(bins={"python3": _probe_says(machine, libc, musl)})
    with pytest.raises(ConfigError) as caught:
        _target(ssh_lab, fake, setup=True).time({"fp32": tiny_models["fp32"]}, QUICK, None)
    assert caught.value.exit_code == 3
    assert str(caught.value) == (
        f"ssh://root@{fake.host.address}:{fake.host.port}: ai-edge-litert has no wheels for {why} "
        "(time it on a device with adb://SERIAL and --benchmark-binary (TFLite's benchmark_model))"
    )
    assert fake.sftp_sessions() == 0


def _stand_in_wheel(folder: Path, name: str, version: str, pth: str) -> Path:
    """A py3-none-any wheel named ``name`` whose only content is a .pth line adding this venv's
    site-packages (so the host's new venv imports the real packages without downloading them)."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-py3-none-any.whl"
    files = {
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"cml_stand_in_{name.replace('-', '_')}.pth": pth,
    }
    record = "".join(f"{f},,\n" for f in files) + f"{dist}.dist-info/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as whl:
        for member, text in {**files, f"{dist}.dist-info/RECORD": record}.items():
            whl.writestr(member, text)
    return path


def test_setup_makes_a_venv_from_wheels_fetched_here_when_the_host_has_no_index(
    ssh_lab: Lab,
    tiny_models: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The host's pip can reach no index (its pip.conf points at a closed port), so the wheels come from
    this machine's ``pip download`` (here: stand-in wheels in a local folder, no network)."""
    import site

    base = Path(sys.base_prefix, "bin", "python3")  # the venv's base Python: no ai-edge-litert
    fake = ssh_lab.host(bins={"python3": f'exec {base} "$@"'})
    conf = fake.home / ".config" / "pip"
    conf.mkdir(parents=True)
    (conf / "pip.conf").write_text(
        "[global]\nindex-url = http://127.0.0.1:9/simple\nretries = 0\ntimeout = 2\n"
    )
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    real = next(p for p in site.getsitepackages() if Path(p, "ai_edge_litert").is_dir())
    _stand_in_wheel(wheels, "ai-edge-litert", "2.3.0", real + "\n")
    _stand_in_wheel(wheels, "numpy", "2.0.0", "")
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    before = _leftovers()
    target = _target(ssh_lab, fake, setup=True)
    with caplog.at_level(logging.INFO, logger="cml"):
        timed = target.time({"fp32": tiny_models["fp32"]}, QUICK, None)
    assert f"{target.name}: pip found no index there" in caplog.text
    venv = fake.home / ".cache" / "cml-bench" / "venv"
    assert fake.ran()[:2] == ["python3 -I -", f"python3 -m venv {venv}"]
    assert timed["fp32"][1].runs == 6
    assert (venv / "bin" / "python").exists()
    installed = sorted(p.name for p in venv.glob("lib/python*/site-packages/*.dist-info"))
    assert "ai_edge_litert-2.3.0.dist-info" in installed
    assert "numpy-2.0.0.dist-info" in installed
    assert _leftovers() == before  # the copied wheels and the run folder are gone
    # the next run finds the venv at once: one probe, no venv made again
    ran = len(fake.ran())
    assert target.time({"fp32": tiny_models["fp32"]}, QUICK, None)["fp32"][1].runs == 6
    assert fake.ran()[ran:] == []  # the venv's python ran, not the host's python3
