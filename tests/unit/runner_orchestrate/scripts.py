"""Stand-in host scripts with the CONTRACT8 invocation rules (``sh PATH``, ``key=value`` on stdin).

They keep their state under ``$HOME/.cml-runner`` as the real ones are meant to, and log the *names*
of the parameters they got (never a value) to ``$HOME/calls.log`` so tests can see what was sent.
A file ``$HOME/fail-install`` makes the install fail with an ``error=`` line.
"""

from __future__ import annotations

READ = """\
while IFS= read -r line; do
  key=${line%%=*}; value=${line#*=}
  printf '%s %s\\n' "$0" "$key" >> "$HOME/calls.log"
  case $key in
    name) name=$value ;; forge) forge=$value ;; mode) mode=$value ;; labels) labels=$value ;;
    url) url=$value ;; id) id=$value ;; version) version=$value ;; idle_timeout) idle=$value ;;
    jitconfig|token) secret=$value ;; package) package=$value ;;
  esac
done
"""

INSTALL = (
    "#!/bin/sh\nset -eu\nname= forge= mode= labels= url= id= version= idle= secret= package=\n"
    + READ
    + """\
if [ -e "$HOME/fail-install" ]; then echo "error=config.sh refused the runner"; exit 1; fi
[ -n "$secret" ] || { echo "error=no secret on stdin"; exit 1; }
[ -f "$package" ] || { echo "error=no package at $package"; exit 1; }
mkdir -p "$HOME/.cml-runner"
f="$HOME/.cml-runner/$name.state"
printf 'forge=%s\\nmode=%s\\nlabels=%s\\nurl=%s\\nid=%s\\nversion=%s\\nrunning=1\\nstarted=%s\\nidle_timeout=%s\\n' \\
  "$forge" "$mode" "$labels" "$url" "$id" "$version" "$(date +%s)" "$idle" > "$f"
echo "status=started"
echo "home=$HOME/.cml-runner"
"""
)

TEARDOWN = (
    "#!/bin/sh\nset -eu\nname= forge= mode= labels= url= id= version= idle= secret= package=\n"
    + READ
    + """\
rm -f "$HOME/.cml-runner/$name.state"
echo "status=removed"
"""
)

STATUS = """\
for f in "$HOME"/.cml-runner/*.state; do
  [ -f "$f" ] || continue
  n=${f##*/}
  echo "name=${n%.state}"
  cat "$f"
  echo "state=$f"
done
"""

SCRIPTS = {
    "status.sh": STATUS,
    "install-github.sh": INSTALL,
    "install-gitlab.sh": INSTALL,
    "teardown.sh": TEARDOWN,
}


def text(name: str) -> str:
    """The stand-in script ``name`` (KeyError for one the contract does not have)."""
    return SCRIPTS[name]
