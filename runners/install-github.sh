#!/bin/sh
# Install and start one GitHub Actions runner on this host; rerunning it with the same input
# changes nothing. Run as `sh install-github.sh` with key=value lines on stdin (see README.md):
#   forge=github mode=jit|service|single name=N labels=a,b package=/path/actions-runner-*.tar.gz
#   url=https://github.com/OWNER[/REPO] jitconfig=... (jit) | token=... (service, single)
#   runner_user=cml-runner home=/abs/path init=auto|systemd|other id=123
# Prints key=value lines; on failure one error= line and a non-zero exit (2: bad input).
# Secrets reach config.sh / run.sh only as ACTIONS_RUNNER_INPUT_TOKEN / _JITCONFIG in their own
# environment (or a 0600 EnvironmentFile under /run that is deleted once systemd started the unit).
here=$(cd "${0%/*}" && pwd) || exit 1
# shellcheck source=lib.sh
. "$here/lib.sh"

forge=github mode=jit name='' labels='' package='' url='' jitconfig='' token=''
runner_user='' home='' init='' id='' idle_timeout=''
take() {
    case $1 in
        forge) forge=$2 ;;
        mode) mode=$2 ;;
        name) name=$2 ;;
        labels) labels=$2 ;;
        package) package=$2 ;;
        url) url=$2 ;;
        jitconfig) jitconfig=$2 ;;
        token) token=$2 ;;
        runner_user) runner_user=$2 ;;
        home) home=$2 ;;
        init) init=$2 ;;
        id) id=$2 ;;
        idle_timeout) idle_timeout=$2 ;;
        *) return 1 ;;
    esac
}

check_input() {
    [ "$forge" = github ] || fail 2 "forge must be github for install-github.sh"
    case $mode in jit | service | single) ;; *) fail 2 "mode must be jit, service or single" ;; esac
    check_word name "$name"
    check_text labels "$labels"
    check_text url "$url"
    case $id in *[!0-9]*) fail 2 "id must be a number" ;; esac
    case $idle_timeout in *[!0-9]*) fail 2 "idle_timeout must be a number of seconds" ;; esac
    [ -z "$package" ] || [ -f "$package" ] || fail 2 "package $package is not a file"
    [ -z "$jitconfig" ] || check_secret jitconfig "$jitconfig"
    [ -z "$token" ] || check_secret token "$token"
    if [ "$mode" = jit ]; then
        [ -z "$token" ] || fail 2 "token is not used in jit mode (pass jitconfig)"
    else
        [ -z "$jitconfig" ] || fail 2 "jitconfig is only used in jit mode"
        [ -n "$url" ] || fail 2 "url is required in $mode mode"
    fi
}

# unpack: the package into the runner folder, as the runner user, unless this sha256 is there.
unpack() {
    if [ "$sha" = "$(state_get package_sha256)" ] && [ -x "$dir/run.sh" ]; then
        return 1
    fi
    as_runner tar -xzf - -C "$dir" <"$package" || fail 1 "cannot unpack $package into $dir"
    [ -x "$dir/run.sh" ] || fail 1 "$package holds no run.sh: not an actions-runner package"
    state_set package_sha256="$sha"
}

# install_hook: the job-completed hook beside the state file, named in the runner's .env.
install_hook() {
    put_file "$here/job-completed.sh" "$dir/cml-job-completed.sh" 755
    file_set "$dir/.env" "ACTIONS_RUNNER_HOOK_JOB_COMPLETED=$dir/cml-job-completed.sh"
    as_runner chmod 600 "$dir/.env"
}

# configure: config.sh with the registration token in its environment only (service, single).
configure() {
    [ -n "$token" ] || fail 2 "token is required to configure runner $name"
    set -- ./config.sh --unattended --url "$url" --name "$name" --work _work --replace --disableupdate
    [ -z "$labels" ] || set -- "$@" --labels "$labels"
    [ "$mode" = service ] || set -- "$@" --ephemeral
    (
        export ACTIONS_RUNNER_INPUT_TOKEN="$token"
        cd "$dir" && as_runner "$@" >&2
    ) || fail 1 "config.sh failed for runner $name (its output is on stderr)"
    found=$(as_runner cat "$dir/.runner" 2>/dev/null | tr -d '\n' | sed -n 's/.*"agentId"[^0-9]*\([0-9][0-9]*\).*/\1/p')
    [ -z "$found" ] || id=$found
}

start() {
    if [ "$mode" = jit ]; then
        [ -n "$jitconfig" ] || fail 2 "jitconfig is required to start runner $name"
        var=ACTIONS_RUNNER_INPUT_JITCONFIG
    else
        var=''
    fi
    if [ "$init" = systemd ] && [ "$mode" = service ]; then
        install_unit "$dir/run.sh"
        state_set unit="$unit" pid=
    elif [ "$init" = systemd ]; then
        start_transient "$var" "$jitconfig" "$dir/run.sh"
        state_set unit="$unit" pid=
    else
        start_setsid "$var" "$jitconfig" ./run.sh
        state_set pid="$pid" unit=
    fi
}

report() {
    say status "$1"
    say forge github
    say name "$name"
    say mode "$mode"
    say user "$ruser"
    say home "$dir"
    say init "$init"
    say unit "$(state_get unit)"
    say pid "$(state_get pid)"
    say id "$(state_get id)"
    say labels "$(state_get labels)"
    say package_sha256 "$(state_get package_sha256)"
    say changed "$changed"
}

read_input
check_input
begin_install
changed=''
[ -z "$was" ] || [ "$labels" = "$(state_get labels)" ] || changed=labels
[ -z "$was" ] || [ "$idle_timeout" = "$(state_get idle_timeout)" ] || changed=${changed:+$changed,}idle_timeout
[ -n "$id" ] || id=$(state_get id)
[ -z "$id" ] || [ "$id" = "$(state_get id)" ] || state_set id="$id"

if alive; then
    # Running: labels live on the forge (the controller sets them); only service runners
    # take a new package in place (a one-job runner finishes with the one it has).
    if [ -n "$sha" ] && [ "$mode" = service ] && [ "$sha" != "$(state_get package_sha256)" ]; then
        stop_runner
        unpack || true
        start
        changed=${changed:+$changed,}package
    fi
    [ -z "$changed" ] || state_set labels="$labels" idle_timeout="$idle_timeout"
    if [ -n "$changed" ]; then report updated; else report unchanged; fi
    exit 0
fi

[ -n "$package" ] || fail 2 "package is required to start runner $name"
if unpack && [ -n "$was" ]; then changed=${changed:+$changed,}package; fi
install_hook
if [ "$mode" != jit ] && { [ "$mode" = single ] || ! as_runner test -f "$dir/.runner"; }; then
    configure
fi
state_set forge=github name="$name" mode="$mode" labels="$labels" id="$id" user="$ruser" \
    init="$init" idle_timeout="$idle_timeout" started_at="$(now)"
start
report started
