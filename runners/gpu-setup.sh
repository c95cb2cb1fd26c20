#!/bin/sh
# Make docker on this GPU host run GPU containers (`cml runner launch --gpu-setup`): install the
# NVIDIA container toolkit when it is missing (NVIDIA's apt or dnf repository, as its install guide
# says: docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html),
# configure docker's runtime with `nvidia-ctk runtime configure --runtime=docker`, restart docker,
# and check it with `docker run --rm --gpus all IMAGE nvidia-smi -L`. Idempotent.
# Run as root: `sh gpu-setup.sh` with optional key=value lines on stdin: image=IMAGE (default
# ubuntu:24.04). Prints status=ready, toolkit=installed|present, gpus=N; on failure one error= line.
here=$(cd "${0%/*}" && pwd) || exit 1
# shellcheck source=lib.sh
. "$here/lib.sh"

image=''
take() {
    case $1 in
        image) image=$2 ;;
        *) return 1 ;;
    esac
}

# install_toolkit: NVIDIA's repository and the nvidia-container-toolkit package (needs the internet).
install_toolkit() {
    repo=https://nvidia.github.io/libnvidia-container
    if have apt-get; then
        keyring=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
        curl -fsSL "$repo/gpgkey" | gpg --batch --yes --dearmor -o "$keyring" >&2 &&
            curl -fsSL "$repo/stable/deb/nvidia-container-toolkit.list" |
            sed "s#deb https://#deb [signed-by=$keyring] https://#g" \
                >/etc/apt/sources.list.d/nvidia-container-toolkit.list &&
            apt-get update >&2 && apt-get install -y nvidia-container-toolkit >&2
    elif have dnf; then
        curl -fsSL "$repo/stable/rpm/nvidia-container-toolkit.repo" \
            >/etc/yum.repos.d/nvidia-container-toolkit.repo &&
            dnf install -y nvidia-container-toolkit >&2
    else
        fail 1 "neither apt-get nor dnf: install nvidia-container-toolkit by hand, then rerun"
    fi || fail 1 "installing nvidia-container-toolkit failed (the host needs to reach nvidia.github.io)"
}

read_input
image=${image:-ubuntu:24.04}
check_text image "$image"
case $image in -*) fail 2 "image must not start with '-'" ;; esac
[ "$(id -u)" = 0 ] || fail 1 "--gpu-setup needs root on the host (log in as root)"
have nvidia-smi || fail 1 "nvidia-smi not found: install the NVIDIA driver first"
have docker || fail 1 "docker not found: install docker first"
toolkit=present
if ! have nvidia-ctk; then
    install_toolkit
    toolkit=installed
fi
nvidia-ctk runtime configure --runtime=docker >&2 || fail 1 "nvidia-ctk runtime configure --runtime=docker failed"
if have systemctl; then
    systemctl restart docker >&2 || fail 1 "systemctl restart docker failed"
fi
gpus=$(docker run --rm --gpus all "$image" nvidia-smi -L | grep -c '^GPU ') ||
    fail 1 "docker run --rm --gpus all $image nvidia-smi -L saw no GPU: check the driver and the toolkit"
say status ready
say toolkit "$toolkit"
say gpus "$gpus"
