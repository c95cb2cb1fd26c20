#!/bin/sh
# First step of every action in this repository: stop at once, in one line, on a runner it does not
# support. cml runs on Linux (x64, arm64) and macOS runners: ubuntu-latest, ubuntu-24.04-arm,
# macos-latest and self-hosted Linux/macOS machines. Windows is refused: the action's venv, its
# scripts and cml itself (file locks, process groups, `cml run`'s Linux containers) are POSIX-only,
# see README "Supported runners". POSIX sh (bash, dash); reads RUNNER_OS only.
set -eu
case "${RUNNER_OS:-}" in
  Linux | macOS) exit 0 ;;
esac
echo "::error title=cml: unsupported runner::cml runs on Linux and macOS runners (ubuntu-latest, ubuntu-24.04-arm, macos-latest), not on ${RUNNER_OS:-an unknown OS}: use one of those in runs-on"
exit 1
