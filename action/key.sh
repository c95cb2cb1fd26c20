#!/usr/bin/env bash
# Prints, for $GITHUB_OUTPUT, the venv cml is installed in and its cache key part:
#   key=<hash of the action's pyproject.toml>      (dependencies change only with it)
#   venv=$RUNNER_TEMP/cml-venv-py<version>-<extras>  (one venv per Python and extras, so two cml actions
#                                                    with different extras in one job do not share one)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
extras=${CML_EXTRAS:-none}
echo "key=$(sha256sum "$root/pyproject.toml" | cut -c1-20)"
echo "venv=${RUNNER_TEMP:-/tmp}/cml-venv-py${CML_PYTHON_VERSION:-default}-${extras//[^A-Za-z0-9_-]/_}"
