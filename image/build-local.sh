#!/bin/sh
# Build the project's Dockerfile on a machine that cannot pull images (or reach PyPI from a container):
# a Debian bookworm base made with mmdebstrap and `docker import`ed, the wheels built on the host and
# served to the build over HTTP on 127.0.0.1, the build on the host network (for apt), then a smoke run:
# `cml --version`, a plain command, and a plot rendered by kaleido with the image's Chromium.
#   DOCKER_HOST=unix:///path/docker.sock image/build-local.sh [--no-smoke] [TAG]
# (--no-smoke: build only; tests/integration/docker/test_image.py builds this way and runs its own checks.)
# CML_WHEEL_PORT picks the wheel server's port (default 8765). Needs mmdebstrap, docker (the CLI) and python3 with pip. Big files stay in the gitignored .cache/.
set -eu
cd "$(dirname "$0")/.."
smoke=1
if [ "${1:-}" = "--no-smoke" ]; then
  smoke=0
  shift
fi
tag=${1:-cml:local}
cache=.cache/docker-build
port=${CML_WHEEL_PORT:-8765}
python=${PYTHON:-python3}
mkdir -p "$cache/wheels"

if [ ! -f "$cache/rootfs.tar" ]; then
  mmdebstrap --variant=minbase --include=python3,python3-venv,ca-certificates bookworm "$cache/rootfs.tar"
fi
docker import "$cache/rootfs.tar" cml-base:bookworm

# The same pins as the image's install (constraints.txt), so the build finds every one it asks for.
"$python" -m pip wheel -q -c constraints.txt . -w "$cache/wheels"
"$python" -m pip download -q 'setuptools>=77' -d "$cache/wheels"
"$python" -m http.server "$port" --bind 127.0.0.1 --directory "$cache/wheels" >"$cache/http.log" 2>&1 &
server=$!
trap 'kill "$server"' EXIT
sleep 1

DOCKER_BUILDKIT=0 docker build --network host \
  --build-arg BASE=cml-base:bookworm \
  --build-arg "PIP_FIND_LINKS=http://127.0.0.1:$port/" \
  --build-arg PIP_NO_INDEX=1 \
  -t "$tag" .

[ "$smoke" = 1 ] || exit 0
docker run --rm --network none "$tag" --version
docker run --rm --network none "$tag" sh -c 'echo "a plain command runs"'
docker run --rm --network none "$tag" python -c '
import os, plotly.graph_objects as go
go.Figure(go.Bar(y=[1, 3, 2])).write_image("/tmp/plot.png")
print("plot rendered:", os.path.getsize("/tmp/plot.png"), "bytes")'
