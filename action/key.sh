#!/usr/bin/env bash
# Prints `key=<hash>` for $GITHUB_OUTPUT: the cache key part that changes with the action's pyproject.toml.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
echo "key=$(sha256sum "$root/pyproject.toml" | cut -c1-20)"
