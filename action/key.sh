#!/bin/sh
# Prints, for $GITHUB_OUTPUT, the venv cml is installed in and its cache key part:
#   key=<first 20 hex digits of the sha256 of the action's pyproject.toml, and of constraints.txt
#        when the action has one>              (the dependencies change only with them)
#   venv=$RUNNER_TEMP/cml-venv-py<version>-<extras>  (one venv per Python and extras, so two cml actions
#                                                    with different extras in one job do not share one)
# POSIX sh (bash, dash), no GNU-only tool: hashes with sha256sum, else `shasum -a 256` (macOS), else
# $CML_PYTHON's hashlib.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)

# sha256 hex digest of stdin, by the first tool this runner has; exit 3 when it has none.
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256
  elif [ -n "${CML_PYTHON:-}" ]; then
    "$CML_PYTHON" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())'
  else
    echo "cml action: no sha256sum, shasum or Python (CML_PYTHON) on this runner to hash pyproject.toml" >&2
    exit 3
  fi
}

set -- "$root/pyproject.toml"
if [ -f "$root/constraints.txt" ]; then
  set -- "$@" "$root/constraints.txt"
fi
digest=$(cat "$@" | sha256 | cut -c1-20)
case "$digest" in
  *[!0-9a-f]* | "") echo "cml action: could not hash $*" >&2; exit 3 ;;
esac
extras=$(printf '%s' "${CML_EXTRAS:-none}" | sed 's/[^A-Za-z0-9_-]/_/g')
echo "key=$digest"
echo "venv=${RUNNER_TEMP:-/tmp}/cml-venv-py${CML_PYTHON_VERSION:-default}-${extras:-none}"
