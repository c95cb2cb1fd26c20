#!/bin/sh
# Print the state of every cml runner on this host in one round trip. Run as `sh status.sh` with
# optional key=value lines on stdin: runner_user=cml-runner home=/abs/path.
# Output: home=BASE, then per runner a `runner=NAME` line followed by that runner's state lines
# (see README.md) and alive=yes|no, and last count=N.
here=$(cd "${0%/*}" && pwd) || exit 1
# shellcheck source=lib.sh
. "$here/lib.sh"

runner_user='' home=''
take() {
    case $1 in
        runner_user) runner_user=$2 ;;
        home) home=$2 ;;
        *) return 1 ;;
    esac
}

# not_zombie PID: true unless the process is a zombie (its state, after "(comm) ", is Z).
not_zombie() {
    [ -r "/proc/$1/stat" ] || return 0
    IFS= read -r st <"/proc/$1/stat" || return 0
    st=${st##*) }
    [ "${st%% *}" != Z ]
}

read_input
if ! runner_identity "$runner_user" nocreate; then
    say count 0
    exit 0
fi
runner_paths "$home" x
say home "$base"
count=0
# Each state file is read once (as the runner user, who owns it) and parsed in the shell: a rerun of
# `cml runner launch` reads every host this way, so the fewer programs started here the better.
for state in "$base"/*/cml-state; do
    [ -f "$state" ] || continue
    name=${state%/cml-state}
    name=${name##*/}
    say runner "$name"
    text=$(as_runner cat "$state") || text=''
    u='' p=''
    while IFS= read -r line; do
        case $line in
            '' | runner=* | alive=*) continue ;;
            unit=*) u=${line#unit=} ;;
            pid=*) p=${line#pid=} ;;
        esac
        printf '%s\n' "$line"
    done <<EOF
$text
EOF
    if [ -n "$u" ]; then
        if systemctl is-active --quiet "$u" 2>/dev/null; then up=yes; else up=no; fi
    elif [ -n "$p" ] && kill -0 "$p" 2>/dev/null && not_zombie "$p"; then
        up=yes
    else
        up=no
    fi
    say alive "$up"
    count=$((count + 1))
done
say count "$count"
