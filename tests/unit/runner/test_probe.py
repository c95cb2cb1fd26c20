"""cml.runner.probe: probe.sh's key=value output parsed leniently, labels derived, --gpu enforced."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from cml.errors import HostError, UsageError
from cml.runner import Done, Gpu, Host, Probe
from cml.runner.probe import gpu_slug, labels, parse, probe, require_gpu
from cml.runner.scripts import text

HOST = Host(user="ci", address="gpu1", port=2222)
GPU_HOST = """probe=1
arch=x86_64
os_id=ubuntu
os_version="22.04"
libc=glibc 2.35
init=systemd
disk_free_kib=104857600
user=ci
uid=1000
docker=27.3.1
nvidia_toolkit=nvidia-ctk
gpu_rc=0
gpu=NVIDIA A100-SXM4-40GB, 40960, 550.54.15
gpu=NVIDIA A100-SXM4-40GB, 40960, 550.54.15
cuda=12.4
end=1
"""


def test_a_two_gpu_host_is_read_in_full() -> None:
    a100 = Gpu(model="NVIDIA A100-SXM4-40GB", memory_mib=40960)
    assert parse(GPU_HOST, HOST) == Probe(
        arch="x64",
        os="ubuntu",
        os_version="22.04",
        glibc="2.35",
        init="systemd",
        disk_free_mib=102400,
        docker=True,
        gpus=(a100, a100),
        driver="550.54.15",
        cuda="12.4",
        nvidia_toolkit=True,
        user="ci",
        root=False,
    )


def test_a_busybox_musl_host_without_tools_is_read_with_defaults() -> None:
    output = "probe=1\narch=aarch64\nos_id=alpine\nos_version=3.20.3\nlibc=musl libc (aarch64)\ninit=other\n"
    output += "disk_free_kib=\nuser=root\nuid=0\nend=1\n"
    assert parse(output, HOST) == Probe(
        arch="arm64",
        os="alpine",
        os_version="3.20.3",
        glibc="",
        init="other",
        disk_free_mib=0,
        docker=False,
        user="root",
        root=True,
    )


@pytest.mark.parametrize(
    ("libc", "glibc"),
    [
        ("glibc 2.36", "2.36"),
        ("ldd (Debian GLIBC 2.36-9+deb12u4) 2.36", "2.36"),
        ("ldd (GNU libc) 2.39", "2.39"),
        ("musl libc (x86_64)", ""),
        ("sh: getconf: not found", ""),
        ("glibc weird", ""),
    ],
)
def test_glibc_versions(libc: str, glibc: str) -> None:
    assert parse(f"probe=1\narch=x86_64\nlibc={libc}\nend=1\n", HOST).glibc == glibc


@pytest.mark.parametrize(
    ("lines", "models"),
    [
        ("gpu_rc=9\ngpu=NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", ()),
        ("gpu_rc=6\ngpu=No devices were found\n", ()),
        ("gpu_rc=0\ngpu=\n", ()),  # an empty answer
        ("gpu_rc=0\ngpu=NVIDIA T4, [N/A], 535.1\n", (("NVIDIA T4", 0),)),
        (
            "gpu_rc=0\ngpu=NVIDIA GeForce RTX 4090, Laptop, 16376, 550.1\n",
            (("NVIDIA GeForce RTX 4090, Laptop", 16376),),
        ),
        (
            "gpu_rc=0\ngpu=Tesla V100, 16384, 470.1\ngpu=garbage line\ngpu=NVIDIA L4, 23034, 470.1\n",
            (("Tesla V100", 16384), ("NVIDIA L4", 23034)),
        ),
        ("gpu=NVIDIA T4, 15360, 535.1\n", ()),  # no exit code: the query did not finish
    ],
)
def test_odd_nvidia_smi_output_gives_only_real_gpus(lines: str, models: tuple[tuple[str, int], ...]) -> None:
    found = parse(f"probe=1\narch=x86_64\n{lines}cuda=12.2\nend=1\n", HOST)
    assert tuple((g.model, g.memory_mib) for g in found.gpus) == models
    assert found.cuda == ("12.2" if models else "")


def test_output_cut_short_or_an_unsupported_architecture_is_a_host_error() -> None:
    for output in ("", "probe=1\narch=x86_64\n", GPU_HOST.replace("end=1", "")):
        with pytest.raises(
            HostError, match=r"^host ci@gpu1:2222: the probe's output is incomplete"
        ) as caught:
            parse(output, HOST)
        assert caught.value.exit_code == 4
    with pytest.raises(
        HostError,
        match=r"^host ci@gpu1:2222: architecture 'armv7l' is not supported \(GitHub and GitLab publish Linux runners for x64 and arm64\)$",
    ):
        parse("probe=1\narch=armv7l\nend=1\n", HOST)
    with pytest.raises(HostError, match=r"architecture 'unknown' is not supported"):
        parse("probe=1\nend=1\n", HOST)


def test_labels_of_cpu_and_gpu_hosts() -> None:
    cpu = parse("probe=1\narch=aarch64\nend=1\n", HOST)
    assert labels(cpu, ()) == ("self-hosted", "linux", "arm64")
    gpu = parse(GPU_HOST, HOST)
    assert labels(gpu, ["train", "GPU", "Linux", "train"]) == (
        "self-hosted",
        "linux",
        "x64",
        "gpu",
        "gpus-2",
        "gpu-a100-sxm4-40gb",
        "cuda-12",
        "train",
    )
    mixed = parse(
        "probe=1\narch=x86_64\ngpu_rc=0\ngpu=Tesla V100-SXM2-16GB, 1, 1.0\ngpu=NVIDIA L4, 1, 1.0\nend=1\n",
        HOST,
    )
    assert labels(mixed, ()) == (
        "self-hosted",
        "linux",
        "x64",
        "gpu",
        "gpus-2",
        "gpu-tesla-v100-sxm2-16gb",
        "gpu-l4",
    )
    with pytest.raises(UsageError, match=r"^labels: label 'a,b': expected letters") as caught:
        labels(cpu, ["a,b"])
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("model", "slug"),
    [
        ("NVIDIA A100-SXM4-40GB", "a100-sxm4-40gb"),
        ("NVIDIA GeForce RTX 4090", "geforce-rtx-4090"),
        ("NVIDIA H100 80GB HBM3", "h100-80gb-hbm3"),
        ("Tesla T4", "tesla-t4"),
        ("  ***  ", ""),
        ("x" * 200, "x" * 90),
    ],
)
def test_gpu_slugs(model: str, slug: str) -> None:
    assert gpu_slug(model) == slug


def test_require_gpu() -> None:
    require_gpu(parse(GPU_HOST, HOST), HOST)
    with pytest.raises(HostError) as caught:
        require_gpu(parse("probe=1\narch=x86_64\nend=1\n", HOST), HOST)
    assert caught.value.exit_code == 4
    assert str(caught.value) == (
        "host ci@gpu1:2222: --gpu, but nvidia-smi lists no working NVIDIA GPU "
        "(install the NVIDIA driver (nvidia-smi must list the GPUs), or drop --gpu for this host)"
    )


@dataclass
class _Machine:
    """A Machine that answers every command with ``answer`` and records what it was asked."""

    answer: Done
    host: Host = HOST
    calls: list[tuple[str, bytes]] = field(default_factory=list)

    def run(self, command: str, *, stdin: bytes = b"", timeout: float | None = None) -> Done:
        self.calls.append((command, stdin))
        return self.answer

    def put(self, data: bytes, path: str, *, mode: int = 0o644) -> None:
        raise AssertionError("the probe writes nothing")

    def close(self) -> None:
        pass


def test_probe_is_one_command_with_the_script_on_stdin() -> None:
    machine = _Machine(Done(code=0, out=GPU_HOST, err=""))
    assert probe(machine, home="/srv/cml runner").arch == "x64"
    assert machine.calls == [("sh -s -- '/srv/cml runner'", text("probe.sh").encode())]
    probe(machine)
    assert machine.calls[-1][0] == "sh -s"


def test_a_failing_probe_is_a_host_error_naming_the_host() -> None:
    machine = _Machine(Done(code=127, out="", err="sh: 1: sh: not found\n"))
    with pytest.raises(
        HostError, match=r"^host ci@gpu1:2222: the probe failed \(exit 127\): sh: 1: sh: not found$"
    ):
        probe(machine)
