"""Stand-in ``systemd-run`` and ``systemctl`` for hosts without systemd (like this test machine).

They do what the install scripts rely on, the way systemd does it: ``systemd-run`` reads the
``EnvironmentFile`` itself before it returns (``Type=exec``: systemd-run returns once the command was
exec'd, so the file may then be deleted), starts the command as ``--uid``/``--gid`` in its own session
and exits; ``systemctl enable --now`` starts a unit file's ``ExecStart`` as its ``User=``;
``is-active``, ``stop``, ``disable --now``, ``reset-failed`` and ``daemon-reload`` work on the units
they started. Every call's argv is appended to ``$STANDIN_DIR/calls`` (one line per call) and the
mode/owner of each EnvironmentFile to ``$STANDIN_DIR/envfiles``.
"""

from __future__ import annotations

from pathlib import Path

_COMMON = """#!/bin/sh
S=${STANDIN_DIR:?}
mkdir -p "$S/units"
printf '%s %s\\n' "${0##*/}" "$*" >>"$S/calls"
spawn() { # unit uid gid dir cmd...  (environment already exported by the caller)
    u=$1 uid=$2 gid=$3 wd=$4
    shift 4
    (
        cd "$wd" || exit 1
        exec setsid setpriv --reuid="$uid" --regid="$gid" --init-groups "$@" </dev/null >>"$S/units/$u.log" 2>&1
    ) &
    echo $! >"$S/units/$u.pid"
}
running() {
    [ -f "$S/units/$1.pid" ] && kill -0 "$(cat "$S/units/$1.pid")" 2>/dev/null
}
"""

_SYSTEMD_RUN = (
    _COMMON
    + """unit='' uid='' gid='' envfile='' wd=/
while [ $# -gt 0 ]; do
    case $1 in
        --unit=*) unit=${1#--unit=} ;;
        --uid=*) uid=${1#--uid=} ;;
        --gid=*) gid=${1#--gid=} ;;
        --property=EnvironmentFile=*) envfile=${1#--property=EnvironmentFile=} ;;
        --property=WorkingDirectory=*) wd=${1#--property=WorkingDirectory=} ;;
        --setenv=*) export "${1#--setenv=}" ;;
        --property=* | --quiet | --collect) ;;
        -*) echo "systemd-run stand-in: unknown option $1" >&2; exit 1 ;;
        *) break ;;
    esac
    shift
done
if running "$unit"; then echo "Unit $unit.service already exists." >&2; exit 1; fi
if [ -n "$envfile" ]; then
    stat -c '%a %U' "$envfile" >>"$S/envfiles" || exit 1
    while IFS= read -r line; do export "$line"; done <"$envfile"
fi
spawn "$unit" "$uid" "$gid" "$wd" "$@"
"""
)

_SYSTEMCTL = (
    _COMMON
    + """quiet=no now=no
while [ $# -gt 0 ]; do
    case $1 in
        --quiet) quiet=yes ;;
        --now) now=yes ;;
        *) break ;;
    esac
    shift
done
verb=$1
shift
for a in "$@"; do case $a in --now) now=yes ;; --quiet) quiet=yes ;; esac; done
for a in "$@"; do case $a in -*) continue ;; esac; u=${a%.service}; done
stop() {
    if running "$1"; then
        p=$(cat "$S/units/$1.pid")
        kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p"
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
    fi
    rm -f "$S/units/$1.pid"
}
case $verb in
    daemon-reload | reset-failed) exit 0 ;;
    is-system-running) echo running ;;
    restart) exit 0 ;; # a unit of the host's own (docker): nothing to do in a stand-in
    is-active) running "$u" && { [ $quiet = yes ] || echo active; exit 0; }; [ $quiet = yes ] || echo inactive; exit 3 ;;
    stop) stop "$u" ;;
    disable) [ $now = no ] || stop "$u"; rm -f "$S/units/$u.enabled" ;;
    enable)
        f=${CML_UNIT_DIR:?}/$u.service
        [ -f "$f" ] || { echo "Unit file $u.service does not exist." >&2; exit 1; }
        : >"$S/units/$u.enabled"
        if [ $now = yes ] && ! running "$u"; then
            user=$(sed -n 's/^User=//p' "$f")
            wd=$(sed -n 's/^WorkingDirectory=//p' "$f")
            exe=$(sed -n 's/^ExecStart=//p' "$f")
            # shellcheck disable=SC2086
            spawn "$u" "$(id -u "$user")" "$(id -g "$user")" "$wd" $exe
        fi
        ;;
    *) echo "systemctl stand-in: unknown verb $verb" >&2; exit 1 ;;
esac
"""
)


def install(bin_dir: Path) -> None:
    """Write the stand-in ``systemd-run`` and ``systemctl`` into ``bin_dir`` (put it first on PATH)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, text in (("systemd-run", _SYSTEMD_RUN), ("systemctl", _SYSTEMCTL)):
        path = bin_dir / name
        path.write_text(text)
        path.chmod(0o755)
