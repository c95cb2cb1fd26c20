"""``--gpu-setup`` end to end with stand-in ``nvidia-ctk``, ``docker`` and systemd on the host's PATH
(this machine has no GPU, no systemd and cannot reach NVIDIA's repository)."""

from __future__ import annotations

import json

from tests.integration.runner_e2e.conftest import E2E

DOCKER = """case "$1" in
  info) echo 27.3.1 ;;
  run) echo "GPU 0: NVIDIA A100-SXM4-40GB (UUID: GPU-0)"; echo "GPU 1: NVIDIA A100-SXM4-40GB (UUID: GPU-1)" ;;
  *) echo "docker $* (fake)" ;;
esac"""


def test_gpu_setup_with_standin_nvidia_ctk_configures_docker_and_checks_a_gpu_container(github: E2E) -> None:
    fake = github.standin_host(gpus=2, docker=True, nvidia_ctk=True, bins={"docker": DOCKER})
    run = github.cli("launch", "--gpu", "--gpu-setup", "--json", hosts=(fake,))
    assert run.code == 0, run.err
    (result,) = json.loads(run.out)
    assert result["details"]["gpu-setup"] == "docker sees 2 GPU(s) (toolkit present)"
    assert "warning" not in result["details"]
    ran = fake.ran()
    assert "nvidia-ctk runtime configure --runtime=docker" in ran
    assert "docker run --rm --gpus all ubuntu:24.04 nvidia-smi -L" in ran
    assert "restart docker" in (github.root / "standin-0" / "calls").read_text()


def test_a_gpu_host_without_the_toolkit_gets_a_warning_naming_the_fix(github: E2E) -> None:
    fake = github.host(gpus=2, docker=True)
    run = github.cli("launch", "--json", hosts=(fake,))
    assert run.code == 0, run.err
    (result,) = json.loads(run.out)
    assert result["details"]["warning"].endswith("rerun with --gpu-setup")
    assert not [line for line in fake.ran() if line.startswith("nvidia-ctk")]
