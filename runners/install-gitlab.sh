#!/bin/sh
# Install, register and start one GitLab runner on this host; rerunning it with the same input
# changes nothing. Run as `sh install-gitlab.sh` with key=value lines on stdin (see README.md):
#   forge=gitlab mode=service|single|jit name=N package=/path/gitlab-runner-linux-ARCH
#   url=https://gitlab.example.com token=glrt-... executor=docker|shell docker_image=IMAGE gpu=0|1
#   labels=a,b runner_user=cml-runner home=/abs/path init=auto|systemd|other id=123
# (jit and single both mean one job: `gitlab-runner run-single --max-builds 1`.)
# The glrt- token reaches `gitlab-runner register` as CI_SERVER_TOKEN in its environment only; it
# then lives in config.toml (owned by the runner user, mode 0600), which run / run-single read.
here=$(cd "${0%/*}" && pwd) || exit 1
# shellcheck source=lib.sh
. "$here/lib.sh"

forge=gitlab mode=service name='' labels='' package='' url='' token='' executor=docker
docker_image='' gpu=0 runner_user='' home='' init='' id='' idle_timeout=''
take() {
    case $1 in
        forge) forge=$2 ;;
        mode) mode=$2 ;;
        name) name=$2 ;;
        labels) labels=$2 ;;
        package) package=$2 ;;
        url) url=$2 ;;
        token) token=$2 ;;
        executor) executor=$2 ;;
        docker_image) docker_image=$2 ;;
        gpu) gpu=$2 ;;
        runner_user) runner_user=$2 ;;
        home) home=$2 ;;
        init) init=$2 ;;
        id) id=$2 ;;
        idle_timeout) idle_timeout=$2 ;;
        *) return 1 ;;
    esac
}

check_input() {
    [ "$forge" = gitlab ] || fail 2 "forge must be gitlab for install-gitlab.sh"
    case $mode in service) ;; jit | single) mode=single ;; *) fail 2 "mode must be service, single or jit" ;; esac
    case $executor in docker | shell) ;; *) fail 2 "executor must be docker or shell" ;; esac
    case $gpu in 0 | 1) ;; *) fail 2 "gpu must be 0 or 1" ;; esac
    check_word name "$name"
    check_text labels "$labels"
    check_text url "$url"
    check_text docker_image "$docker_image"
    case $docker_image in -*) fail 2 "docker_image must not start with '-'" ;; esac
    case $id in *[!0-9]*) fail 2 "id must be a number" ;; esac
    case $idle_timeout in *[!0-9]*) fail 2 "idle_timeout must be a number of seconds" ;; esac
    [ -z "$package" ] || [ -f "$package" ] || fail 2 "package $package is not a file"
    [ -z "$token" ] || check_secret token "$token"
    [ "$executor" = shell ] || [ -n "$docker_image" ] || docker_image=ubuntu:24.04
    [ "$executor" = docker ] || docker_image=''
}

# install_binary: the gitlab-runner binary into the runner folder unless this sha256 is there.
install_binary() {
    if [ "$sha" = "$(state_get package_sha256)" ] && [ -x "$dir/gitlab-runner" ]; then
        return 1
    fi
    put_file "$package" "$dir/gitlab-runner" 755
    state_set package_sha256="$sha"
}

# register: `gitlab-runner register` with the token in CI_SERVER_TOKEN (its environment only).
register() {
    [ -n "$token" ] || fail 2 "token is required to register runner $name"
    [ -n "$url" ] || fail 2 "url is required to register runner $name"
    set -- ./gitlab-runner register --non-interactive --config "$dir/config.toml" --url "$url" \
        --name "$name" --executor "$executor"
    if [ "$executor" = docker ]; then
        set -- "$@" --docker-image "$docker_image"
        [ "$gpu" = 0 ] || set -- "$@" --docker-gpus all
    fi
    (
        export CI_SERVER_TOKEN="$token"
        cd "$dir" && as_runner "$@" >&2
    ) || fail 1 "gitlab-runner register failed for runner $name (its output is on stderr)"
    as_runner chmod 600 "$dir/config.toml" || fail 1 "cannot chmod $dir/config.toml"
}

start() {
    if [ "$mode" = service ]; then
        set -- run --config "$dir/config.toml" --working-directory "$dir"
    else
        set -- run-single --config "$dir/config.toml" --runner "$name" --max-builds 1
    fi
    if [ "$init" = systemd ] && [ "$mode" = service ]; then
        install_unit "$dir/gitlab-runner $*"
        state_set unit="$unit" pid=
    elif [ "$init" = systemd ]; then
        start_transient '' '' "$dir/gitlab-runner" "$@"
        state_set unit="$unit" pid=
    else
        start_setsid '' '' ./gitlab-runner "$@"
        state_set pid="$pid" unit=
    fi
}

report() {
    say status "$1"
    say forge gitlab
    say name "$name"
    say mode "$mode"
    say user "$ruser"
    say home "$dir"
    say init "$init"
    say unit "$(state_get unit)"
    say pid "$(state_get pid)"
    say id "$(state_get id)"
    say labels "$(state_get labels)"
    say executor "$(state_get executor)"
    say package_sha256 "$(state_get package_sha256)"
    say changed "$changed"
}

read_input
check_input
begin_install
registered=$(state_get executor)
if [ -n "$registered" ] && as_runner test -f "$dir/config.toml"; then
    [ "$registered:$(state_get docker_image):$(state_get gpu)" = "$executor:$docker_image:$gpu" ] ||
        fail 1 "runner $name is registered with executor $registered; tear it down to change it"
fi
changed=''
[ -z "$was" ] || [ "$labels" = "$(state_get labels)" ] || changed=labels
[ -z "$was" ] || [ "$idle_timeout" = "$(state_get idle_timeout)" ] || changed=${changed:+$changed,}idle_timeout
[ -n "$id" ] || id=$(state_get id)

if alive; then
    # Tags live on the forge (the controller sets them); a new binary replaces the old one in place.
    if [ -n "$sha" ] && [ "$mode" = service ] && [ "$sha" != "$(state_get package_sha256)" ]; then
        stop_runner
        install_binary || true
        start
        changed=${changed:+$changed,}package
    fi
    [ -z "$changed" ] || state_set labels="$labels" idle_timeout="$idle_timeout"
    [ -z "$id" ] || [ "$id" = "$(state_get id)" ] || state_set id="$id"
    if [ -n "$changed" ]; then report updated; else report unchanged; fi
    exit 0
fi

[ -n "$package" ] || fail 2 "package is required to start runner $name"
if install_binary && [ -n "$was" ]; then changed=${changed:+$changed,}package; fi
as_runner test -f "$dir/config.toml" || register
state_set forge=gitlab name="$name" mode="$mode" labels="$labels" id="$id" user="$ruser" \
    init="$init" idle_timeout="$idle_timeout" executor="$executor" docker_image="$docker_image" \
    gpu="$gpu" started_at="$(now)"
start
report started
