#!/usr/bin/env bash
# Used by every action in this repository: install cml (from the action's own checkout, with the
# extras in $CML_EXTRAS) into the venv $CML_VENV, built with $CML_PYTHON. When actions/cache restored
# that venv (its key is the hash of pyproject.toml, so the dependencies are current) only cml itself is
# reinstalled, without dependencies: a few seconds. Inputs arrive as environment variables, never as
# ${{ }} expressions in this script.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
spec=$root
if [ -n "${CML_EXTRAS:-}" ]; then
  case "$CML_EXTRAS" in
    *[!A-Za-z0-9,_-]*) echo "cml action: input 'extras' must be comma-separated names, got: $CML_EXTRAS" >&2; exit 2 ;;
  esac
  spec="${root}[${CML_EXTRAS}]"
fi
if [ -x "$CML_VENV/bin/python" ]; then
  exec "$CML_VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$root"
fi
"$CML_PYTHON" -m venv "$CML_VENV"
"$CML_VENV/bin/python" -m pip install -q --disable-pip-version-check -U pip
"$CML_VENV/bin/python" -m pip install -q --disable-pip-version-check -c "$root/constraints.txt" "$spec"
