#!/bin/sh
# Build step of the Dockerfile (runs as root in the base image):
#   install.sh SRC EXTRAS
# Python (when the base has none), git, fonts and Chromium's headless shell for plots, then cml from SRC
# (with the optional EXTRAS, e.g. "bench") in the venv /opt/cml, every dependency pinned by
# SRC/constraints.txt, and the list of cml commands for the entrypoint. On a base without a
# chromium-headless-shell package (the Ubuntu-based CUDA images) it says so and goes on: plots then need
# a Chromium on PATH or at BROWSER_PATH.
set -eu
src=$1
extras=${2:-}
export DEBIAN_FRONTEND=noninteractive

apt-get update -qq
# fonts-noto-color-emoji: Chromium draws the report's 🟢/🔴 in colour (the local forge's HTML preview).
set -- ca-certificates git fonts-liberation fonts-noto-color-emoji
if ! command -v python3 >/dev/null 2>&1; then
  set -- "$@" python3 python3-venv
elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
  set -- "$@" python3-venv
fi
if apt-cache show chromium-headless-shell >/dev/null 2>&1; then
  set -- "$@" chromium-headless-shell
else
  echo "install.sh: no chromium-headless-shell package for this base; plots need BROWSER_PATH" >&2
fi
apt-get install -y -qq --no-install-recommends "$@"
# The .debs too: a base without docker-clean (the mmdebstrap one of build-local.sh) keeps ~240 MB of them.
apt-get clean
rm -rf /var/lib/apt/lists/*

if command -v chromium-headless-shell >/dev/null 2>&1; then
  # kaleido looks for `chromium` on PATH.
  ln -sf "$(command -v chromium-headless-shell)" /usr/local/bin/chromium
fi

python3 -m venv /opt/cml
/opt/cml/bin/pip install --no-cache-dir --disable-pip-version-check -c "$src/constraints.txt" "$src${extras:+[$extras]}"
ln -sf /opt/cml/bin/cml /usr/local/bin/cml
mkdir -p /etc/cml
/opt/cml/bin/python -c 'from cml.cli import COMMANDS; print("\n".join(COMMANDS))' >/etc/cml/commands
cml --version
