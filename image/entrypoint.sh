#!/bin/sh
# Entrypoint of the cml image. A cml command goes to cml, anything else runs as is:
#   docker run IMAGE comment update report.md   ->  cml comment update report.md
#   docker run IMAGE --version                  ->  cml --version
#   docker run IMAGE python train.py            ->  python train.py
# GitLab `image:` jobs start a shell through the entrypoint; it is not a cml command, so it runs.
set -eu
commands=${CML_COMMANDS_FILE:-/etc/cml/commands}

if [ "$#" -eq 0 ]; then
  exec cml --help
fi
case "$1" in
  cml) exec "$@" ;;
  -*) exec cml "$@" ;;
esac
if [ -r "$commands" ]; then
  while IFS= read -r name; do
    if [ "$name" = "$1" ]; then
      exec cml "$@"
    fi
  done <"$commands"
fi
exec "$@"
