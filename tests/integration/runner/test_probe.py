"""probe.sh on real sshd hosts (x64, arm64 with a busybox userland, two GPUs): one round trip each,
the Probe and the labels that follow."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cml.errors import HostError
from cml.runner import Gpu, Probe
from cml.runner.probe import labels, probe, require_gpu
from cml.runner.ssh import connect
from tests.integration.runner.sshd import CUDA, DRIVER, GPU_MODEL, FakeHost, Lab, nonroot_user

pytestmark = pytest.mark.slow


def _probe(lab: Lab, fake: FakeHost, home: str = "") -> Probe:
    with connect(fake.host, identity=str(lab.identity), known_hosts=lab.known_hosts) as machine:
        return probe(machine, home=home)


def _os() -> tuple[str, str]:
    text = Path("/etc/os-release").read_text()
    fields = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
    return fields["ID"].strip('"'), fields["VERSION_ID"].strip('"')


def test_x64_arm64_and_gpu_hosts_each_in_one_round_trip(ssh_lab: Lab) -> None:
    x64, arm, gpu = ssh_lab.hosts(
        3,
        arch=["x64", "arm64", "x64"],
        gpus=[0, 0, 2],
        docker=[True, False, True],
        systemd=[True, False, False],
    )
    arm_busybox = ssh_lab.host(arch="arm64", busybox=True)
    gpu.add_bin("nvidia-ctk", "echo 1.16.2")
    found = {fake.host.address: _probe(ssh_lab, fake) for fake in (x64, arm, gpu, arm_busybox)}

    os_id, os_version = _os()
    for fake in (x64, arm, gpu, arm_busybox):
        assert fake.logins() == 1
        assert fake.execs() == 1  # one command: the script came on its stdin
        assert fake.channels() == 1
        assert fake.sftp_sessions() == 0
        result = found[fake.host.address]
        assert (result.os, result.os_version, result.user, result.root) == (os_id, os_version, "root", True)
        assert result.glibc.startswith("2.")
        assert result.disk_free_mib > 0

    assert found[x64.host.address] == Probe(
        arch="x64",
        os=os_id,
        os_version=os_version,
        glibc=found[x64.host.address].glibc,
        init="systemd",
        disk_free_mib=found[x64.host.address].disk_free_mib,
        docker=True,
        user="root",
        root=True,
    )
    assert x64.ran() == ["uname -m", "systemctl is-system-running", "docker info --format {{.ServerVersion}}"]
    assert labels(found[x64.host.address], ["train"]) == ("self-hosted", "linux", "x64", "train")

    assert (found[arm.host.address].arch, found[arm.host.address].init) == ("arm64", "other")
    assert not found[arm.host.address].docker
    assert arm.ran() == ["uname -m"]  # no docker, systemctl or nvidia-smi on its PATH
    assert labels(found[arm.host.address], ()) == ("self-hosted", "linux", "arm64")
    with_busybox = found[arm_busybox.host.address]
    assert (arm_busybox.bin / "df").resolve() == Path("/bin/busybox").resolve()
    assert with_busybox == replace(found[arm.host.address], disk_free_mib=with_busybox.disk_free_mib)

    on_gpu = found[gpu.host.address]
    a100 = Gpu(model=GPU_MODEL, memory_mib=40960)
    assert (on_gpu.gpus, on_gpu.driver, on_gpu.cuda) == ((a100, a100), DRIVER, CUDA)
    assert on_gpu.nvidia_toolkit
    assert on_gpu.docker
    assert labels(on_gpu, ["A100"]) == (
        "self-hosted",
        "linux",
        "x64",
        "gpu",
        "gpus-2",
        "gpu-a100-sxm4-40gb",
        "cuda-12",
        "A100",
    )
    require_gpu(on_gpu, gpu.host)
    with pytest.raises(HostError, match=r"--gpu, but nvidia-smi lists no working NVIDIA GPU"):
        require_gpu(found[arm.host.address], arm.host)


def test_a_broken_driver_is_no_gpu(ssh_lab: Lab) -> None:
    fake = ssh_lab.host(
        bins={
            "nvidia-smi": 'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver."; exit 9'
        }
    )
    found = _probe(ssh_lab, fake)
    assert (found.gpus, found.driver, found.cuda) == ((), "", "")
    assert fake.ran()[-2:] == [
        "nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits",
        "nvidia-smi ",
    ]
    with pytest.raises(HostError, match=rf"^host {fake.host.name}: --gpu, but"):
        require_gpu(found, fake.host)


def test_a_tool_reading_stdin_cannot_eat_the_script(ssh_lab: Lab) -> None:
    fake = ssh_lab.host(bins={"docker": "cat >/dev/null; echo 27.0"})  # reads all of its stdin
    found = _probe(ssh_lab, fake)
    assert found.docker
    assert found.user == "root"  # lines after docker's still ran


def test_a_non_root_login_and_the_runner_home_folder(ssh_lab: Lab) -> None:
    user = nonroot_user()
    fake = ssh_lab.host(user=user)
    found = _probe(ssh_lab, fake, home=str(fake.home / "not" / "yet" / "made"))
    assert (found.user, found.root) == (user, False)
    assert found.disk_free_mib > 0


def test_an_unsupported_architecture_is_refused(ssh_lab: Lab) -> None:
    fake = ssh_lab.host(arch="armv7l")
    with pytest.raises(HostError, match=rf"^host {fake.host.name}: architecture 'armv7l' is not supported"):
        _probe(ssh_lab, fake)
