"""Stand-in host scripts that speak exactly the protocol of ``runners/README.md`` (R3's scripts).

Same invocation (``sh PATH``, ``key=value`` on stdin; an unknown key, a key twice or a line without
``=`` refused with exit 2 and one ``error=`` line), same stdin keys, same stdout keys, same state keys
(``status.sh``: ``home=``, ``runner=NAME`` + state lines + ``alive=yes|no``, ``count=N``). Only their
storage is simpler: ``$HOME/.cml-runner/NAME.state``; a runner is alive unless ``NAME.dead`` exists.
They log the *names* of the parameters they got (never a value) to ``$HOME/calls.log``. A file
``$HOME/fail-install`` makes the install fail with an ``error=`` line.
"""

from __future__ import annotations

_COMMON = """\
base="$HOME/.cml-runner"
seen=' '
while IFS= read -r line || [ -n "$line" ]; do
  case $line in *=*) ;; *) echo "error=stdin line is not key=value"; exit 2 ;; esac
  key=${line%%=*}; value=${line#*=}
  case $seen in *" $key "*) echo "error=stdin key '$key' given twice"; exit 2 ;; esac
  seen="$seen$key "
  case " $KEYS " in *" $key "*) ;; *) echo "error=unknown stdin key '$key'"; exit 2 ;; esac
  printf '%s %s\\n' "${0##*/}" "$key" >> "$HOME/calls.log"
  eval "v_$key=\\$value"
done
get() { sed -n "s/^$1=//p" "$base/$v_name.state" 2>/dev/null | tail -n 1; }
alive() { [ -f "$base/$v_name.state" ] && [ ! -f "$base/$v_name.dead" ]; }
"""

_INSTALL_KEYS = "forge mode name labels package url jitconfig token id runner_user home init idle_timeout"

INSTALL = (
    "#!/bin/sh\nset -u\n"
    'KEYS="@KEYS@"\n'
    + "v_name='' v_labels='' v_package='' v_jitconfig='' v_token='' v_id='' v_idle_timeout='' v_mode=jit "
    + "v_forge='' v_executor='' v_docker_image='' v_gpu=''\n"
    + _COMMON
    + """\
if [ -e "$HOME/fail-install" ]; then echo "error=config.sh refused the runner"; exit 1; fi
mkdir -p "$base"
f="$base/$v_name.state"
if alive; then
  changed=''
  [ "$v_labels" = "$(get labels)" ] || changed=labels
  [ "$v_idle_timeout" = "$(get idle_timeout)" ] || changed=${changed:+$changed,}idle_timeout
  if [ -n "$changed" ]; then
    grep -v -e '^labels=' -e '^idle_timeout=' "$f" > "$f.new"
    printf 'labels=%s\\nidle_timeout=%s\\n' "$v_labels" "$v_idle_timeout" >> "$f.new"
    mv "$f.new" "$f"
    echo "status=updated"
  else
    echo "status=unchanged"
  fi
  echo "changed=$changed"
  echo "package_sha256=$(get package_sha256)"
  exit 0
fi
[ -n "$v_jitconfig$v_token" ] || { echo "error=token or jitconfig is required to start runner $v_name"; exit 2; }
[ -f "$v_package" ] || { echo "error=package is required to start runner $v_name"; exit 2; }
sha=$(sha256sum < "$v_package" | cut -d' ' -f1)
rm -f "$base/$v_name.dead"
{
  printf 'forge=%s\\nname=%s\\nmode=%s\\nlabels=%s\\nid=%s\\n' "$v_forge" "$v_name" "$v_mode" "$v_labels" "$v_id"
  printf 'package_sha256=%s\\nidle_timeout=%s\\n' "$sha" "$v_idle_timeout"
  printf 'user=%s\\ninit=setsid\\npid=%s\\nstarted_at=%s\\n' "$(id -un)" "$$" "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  [ -z "$v_executor" ] || printf 'executor=%s\\ngpu=%s\\n' "$v_executor" "$v_gpu"
} > "$f"
echo "status=started"
echo "name=$v_name"
echo "home=$base/$v_name"
echo "package_sha256=$sha"
"""
)

TEARDOWN = (
    "#!/bin/sh\nset -u\n"
    'KEYS="forge name token runner_user home"\n'
    + "v_name='' v_token='' v_forge=''\n"
    + _COMMON
    + """\
[ -f "$base/$v_name.state" ] || { echo "status=absent"; echo "name=$v_name"; exit 0; }
rm -f "$base/$v_name.state" "$base/$v_name.dead"
echo "status=removed"
echo "name=$v_name"
if [ -n "$v_token" ]; then echo "deregistered=yes"; else echo "deregistered=no"; fi
"""
)

STATUS = (
    "#!/bin/sh\nset -u\n"
    'KEYS="runner_user home"\n'
    + _COMMON
    + """\
echo "home=$base"
n=0
for f in "$base"/*.state; do
  [ -f "$f" ] || continue
  v_name=${f##*/}; v_name=${v_name%.state}
  echo "runner=$v_name"
  cat "$f"
  if alive; then echo alive=yes; else echo alive=no; fi
  n=$((n + 1))
done
echo "count=$n"
"""
)

PROBE = "#!/bin/sh\necho probe=1\necho end=1\n"

GPU_SETUP = (
    "#!/bin/sh\nset -u\n"
    'KEYS="image"\n'
    + _COMMON
    + """\
echo "gpu-setup.sh ran" >> "$HOME/calls.log"
echo status=ready
echo toolkit=present
echo gpus=2
"""
)

SCRIPTS = {
    "probe.sh": PROBE,
    "status.sh": STATUS,
    "install-github.sh": INSTALL.replace("@KEYS@", _INSTALL_KEYS),
    "install-gitlab.sh": INSTALL.replace("@KEYS@", _INSTALL_KEYS + " executor docker_image gpu"),
    "teardown.sh": TEARDOWN,
    "gpu-setup.sh": GPU_SETUP,
    "lib.sh": "# nothing: the stand-ins are self-contained\n",
}
NAMES = tuple(sorted(SCRIPTS))


def text(name: str) -> str:
    """The stand-in script ``name`` (KeyError for one the contract does not have)."""
    return SCRIPTS[name]
