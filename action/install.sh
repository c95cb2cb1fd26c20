#!/bin/sh
# Used by every action in this repository: make the venv $CML_VENV (built with $CML_PYTHON) run cml.
#
# The venv holds cml's dependencies only (those of pyproject.toml plus the extras in $CML_EXTRAS, pinned by
# constraints.txt when the action has one); cml itself runs from the action's own checkout, put on the
# venv's sys.path by a .pth file. So:
#   - a venv restored by actions/cache that is complete (it was finished for this key, $CML_KEY, and still
#     holds every distribution it was built with) is used as it is: no pip, no index, no network;
#   - anything else is built afresh: venv, `pip install -r` of the requirements, a record of what it holds.
# POSIX sh (bash, dash), no GNU-only tool. Inputs arrive as environment variables, never as ${{ }}
# expressions in this script.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${CML_VENV:?CML_VENV is not set}
case "${CML_EXTRAS:-}" in
  *[!A-Za-z0-9,_-]*) echo "cml action: input 'extras' must be comma-separated names, got: $CML_EXTRAS" >&2; exit 2 ;;
esac
py=$venv/bin/python
done_file=$venv/cml-venv-key
held=$venv/cml-venv-freeze.txt

# True when the venv at $venv runs, was finished for this key and still holds what it was built with.
venv_complete() {
  [ -x "$py" ] && [ -f "$done_file" ] && [ "$(cat "$done_file")" = "${CML_KEY:?CML_KEY is not set}" ] &&
    "$py" "$root/action/venv.py" check "$held"
}

# Put the action's checkout on the venv's sys.path (the venv's lib/python*/site-packages, found by glob).
link() {
  for site in "$venv"/lib/python*/site-packages; do
    if [ ! -d "$site" ]; then
      echo "cml action: $venv has no lib/python*/site-packages" >&2
      exit 3
    fi
    printf '%s\n' "$root" >"$site/cml-action.pth"
  done
}

if venv_complete; then
  link
  echo "cml action: using the cached venv $venv as it is (nothing downloaded); cml from $root"
  exit 0
fi
rm -rf "$venv"
"${CML_PYTHON:?CML_PYTHON is not set}" -m venv "$venv"
"$py" "$root/action/venv.py" requirements "$root/pyproject.toml" "${CML_EXTRAS:-}" >"$venv/cml-requirements.txt"
set -- -r "$venv/cml-requirements.txt"
if [ -f "$root/constraints.txt" ]; then
  set -- "$@" -c "$root/constraints.txt"
fi
"$py" -m pip install -q --disable-pip-version-check "$@"
"$py" "$root/action/venv.py" freeze >"$held"
printf '%s\n' "$CML_KEY" >"$done_file"
link
echo "cml action: installed cml's dependencies into $venv; cml from $root"
