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

read_input
if ! runner_identity "$runner_user" nocreate; then
    say count 0
    exit 0
fi
runner_paths "$home" x
say home "$base"
count=0
for state in "$base"/*/cml-state; do
    [ -f "$state" ] || continue
    name=${state%/cml-state}
    name=${name##*/}
    say runner "$name"
    as_runner cat "$state" | grep -v -e '^runner=' -e '^alive=' -e '^$'
    unit=cml-runner-$name
    if alive; then say alive yes; else say alive no; fi
    count=$((count + 1))
done
say count "$count"
