#!/bin/sh
# Used by the actions that draw plots: find a Chromium for kaleido, or install one where the runner has
# none, say which in a ::notice:: line, and write `path=<executable>` to $GITHUB_OUTPUT (the next step
# hands it to cml as BROWSER_PATH; empty when there is none: cml then keeps its tables and leaves out plots).
#
# $CML_CHROMIUM (the action's `chromium` input): auto = find, else install; find = only find; skip = neither.
# Looked for, in order: $BROWSER_PATH; the names cml.report.plots.BROWSER_NAMES on PATH; on macOS the app
# bundles under /Applications and ~/Applications (or the colon-separated $CML_APP_DIRS), where Chrome keeps
# its executable. Installed (Linux, as root or through `sudo -n`), by the distribution in /etc/os-release
# (or $CML_OS_RELEASE):
#   - Debian: its chromium-headless-shell package (+ fonts-liberation);
#   - Ubuntu (ubuntu-latest, ubuntu-24.04-arm, which has no Chrome): Google Chrome's own .deb for the
#     runner's architecture, amd64 or arm64 (Google ships arm64 since Chrome 151), installed with apt so
#     its libraries come along. Ubuntu's chromium-browser is only a transitional package for a snap, whose
#     private /tmp kaleido cannot share, and Chrome for Testing (what kaleido downloads) had no Linux arm64
#     build before Chrome 153.
# POSIX sh (bash, dash), no GNU-only tool.
set -eu
mode=${CML_CHROMIUM:-auto}
case "$mode" in
  auto | find | skip) ;;
  *) echo "cml action: input 'chromium' must be auto, find or skip, got: $mode" >&2; exit 2 ;;
esac
out=${GITHUB_OUTPUT:?GITHUB_OUTPUT is not set}
# The same names, in the same order, as cml.report.plots.BROWSER_NAMES (a unit test holds them equal).
names="chromium-headless-shell chromium chromium-browser google-chrome-stable google-chrome chrome"
bundles="Google Chrome.app/Contents/MacOS/Google Chrome
Chromium.app/Contents/MacOS/Chromium
Google Chrome for Testing.app/Contents/MacOS/Google Chrome for Testing"

# Print the first of $names on PATH; false when none is.
on_path() {
  for name in $names; do
    if found=$(command -v "$name" 2>/dev/null); then
      case "$found" in /*) printf '%s\n' "$found"; return 0 ;; esac
    fi
  done
  return 1
}

# Print the first Chrome/Chromium executable inside an app bundle (macOS); false when there is none.
in_bundle() {
  [ "${RUNNER_OS:-}" = macOS ] || return 1
  dirs=${CML_APP_DIRS:-/Applications:${HOME:-/nonexistent}/Applications}
  old_ifs=$IFS
  IFS=:
  for dir in $dirs; do
    IFS=$old_ifs
    while IFS= read -r bundle; do
      if [ -f "$dir/$bundle" ] && [ -x "$dir/$bundle" ]; then
        printf '%s\n' "$dir/$bundle"
        return 0
      fi
    done <<BUNDLES
$bundles
BUNDLES
  done
  IFS=$old_ifs
  return 1
}

# Run "$@" as root: directly when we are root, else through `sudo -n` (never prompts).
as_root() {
  if [ "$(id -u)" = 0 ]; then
    "$@"
  else
    sudo -n "$@"
  fi
}

# apt-get install "$@" quietly; once more after `apt-get update` when the package lists are stale.
apt_install() {
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" ||
    { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "$@"; }
}

# The distribution's ID and ID_LIKE words from os-release, on one line.
distribution() {
  sed -n 's/^ID=//p; s/^ID_LIKE=//p' "${CML_OS_RELEASE:-/etc/os-release}" 2>/dev/null | tr -d '"' | tr '\n' ' '
}

# Install a Chromium as described above; prints what it installed; false when it could not.
install_chromium() {
  [ "${RUNNER_OS:-Linux}" = Linux ] || return 1
  command -v apt-get >/dev/null 2>&1 || return 1
  case " $(distribution) " in
    *" ubuntu "*)
      case "${RUNNER_ARCH:-}" in
        X64) arch=amd64 ;;
        ARM64) arch=arm64 ;;
        *) return 1 ;;
      esac
      deb=${RUNNER_TEMP:-/tmp}/google-chrome-stable_current_$arch.deb
      url=https://dl.google.com/linux/direct/google-chrome-stable_current_$arch.deb
      curl -fsSL --retry 3 -o "$deb" "$url" >&2 && apt_install "$deb" >&2 || return 1
      rm -f "$deb"
      echo "Google Chrome ($url)"
      ;;
    *" debian "*)
      apt_install chromium-headless-shell fonts-liberation >&2 || return 1
      echo "Debian's chromium-headless-shell"
      ;;
    *) return 1 ;;
  esac
}

notice() {
  echo "::notice title=cml: Chromium::plots are drawn with $1 ($2)"
  echo "path=$1" >>"$out"
}

if [ "$mode" = skip ]; then
  echo "path=" >>"$out"
  exit 0
fi
if [ -n "${BROWSER_PATH:-}" ]; then
  if [ -f "$BROWSER_PATH" ] && [ -x "$BROWSER_PATH" ]; then
    notice "$BROWSER_PATH" "BROWSER_PATH"
    exit 0
  fi
  echo "::warning title=cml: Chromium::BROWSER_PATH=$BROWSER_PATH is not an executable file: looking for another"
fi
if found=$(on_path); then
  notice "$found" "found on PATH"
elif found=$(in_bundle); then
  notice "$found" "the app bundle's"
elif [ "$mode" = auto ] && what=$(install_chromium) && found=$(on_path); then
  notice "$found" "installed $what"
else
  echo "::warning title=cml: no Chromium::no Chromium or Chrome on this runner (input chromium: $mode): reports keep their tables but leave out plots; set BROWSER_PATH to one"
  echo "path=" >>"$out"
fi
