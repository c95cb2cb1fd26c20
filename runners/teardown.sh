#!/bin/sh
# Stop and remove one runner from this host (GitHub or GitLab); idempotent. Run as
# `sh teardown.sh` with key=value lines on stdin (see README.md):
#   name=N forge=github|gitlab token=REMOVE_TOKEN runner_user=cml-runner home=/abs/path
# GitHub: `config.sh remove` with a fresh remove token in ACTIONS_RUNNER_INPUT_TOKEN (environment
# only) when the runner was configured; GitLab: `gitlab-runner unregister`. Deleting the runner
# through the forge's API stays the controller's job (deregistered=no tells it to).
# Prints status=removed (or status=absent when nothing was there), deregistered=yes|no|not-needed.
here=$(cd "${0%/*}" && pwd) || exit 1
# shellcheck source=lib.sh
. "$here/lib.sh"

forge='' name='' token='' runner_user='' home=''
take() {
    case $1 in
        forge) forge=$2 ;;
        name) name=$2 ;;
        token) token=$2 ;;
        runner_user) runner_user=$2 ;;
        home) home=$2 ;;
        *) return 1 ;;
    esac
}

# deregister_github: config.sh remove (deletes .runner/.credentials and the registration).
deregister_github() {
    if ! as_runner test -f "$dir/.runner"; then
        deregistered=not-needed
    elif [ -z "$token" ]; then
        deregistered=no
    elif (
        export ACTIONS_RUNNER_INPUT_TOKEN="$token"
        cd "$dir" && as_runner ./config.sh remove --unattended >&2
    ); then
        deregistered=yes
    else
        deregistered=no
    fi
}

# deregister_gitlab: gitlab-runner unregister, which also drops it from config.toml.
deregister_gitlab() {
    if ! as_runner test -f "$dir/config.toml" || ! as_runner test -x "$dir/gitlab-runner"; then
        deregistered=not-needed
    elif (cd "$dir" && as_runner ./gitlab-runner unregister --config "$dir/config.toml" --name "$name" >&2); then
        deregistered=yes
    else
        deregistered=no
    fi
}

absent() {
    say status absent
    say name "$name"
    exit 0
}

read_input
check_word name "$name"
case $forge in '' | github | gitlab) ;; *) fail 2 "forge must be github or gitlab" ;; esac
[ -z "$token" ] || check_secret token "$token"
runner_identity "$runner_user" nocreate || absent
runner_paths "$home" "$name"
[ -d "$dir" ] || [ -f "$unitdir/$unit.service" ] || absent

[ -n "$forge" ] || forge=$(state_get forge)
stop_runner
have systemctl && systemctl reset-failed "$unit" >/dev/null 2>&1
rm -f "/run/cml-runner/$name.env"
case $forge in
    github) deregister_github ;;
    gitlab) deregister_gitlab ;;
    *) deregistered=no ;;
esac
rm -rf "$dir" || fail 1 "cannot remove $dir"
say status removed
say name "$name"
say forge "$forge"
say deregistered "$deregistered"
