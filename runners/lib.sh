# shellcheck shell=sh disable=SC2016,SC2154
# SC2016: the sh -c programs below take their arguments as "$1".. on purpose (never spliced in).
# SC2154: here, name and forge are set by the script that sources this file.
# Shared by install-github.sh, install-gitlab.sh, teardown.sh and status.sh (sourced, never run).
# Reads key=value lines from stdin without eval, prints key=value results, finds the runner user,
# runs commands as that user, and keeps each runner's state file. See README.md in this folder.

umask 022
IFS=' 	
'
# The scripts run from a non-interactive ssh session: give them the usual system PATH as well.
PATH=$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

# say KEY VALUE: one result line on stdout.
say() {
    printf '%s=%s\n' "$1" "$2"
}

# fail CODE MESSAGE: the one error line, then exit CODE (2: bad input, 1: failed on the host).
fail() {
    printf 'error=%s\n' "$2"
    exit "$1"
}

# Where unit files go; CML_UNIT_DIR only for tests with a stand-in systemctl.
unitdir=${CML_UNIT_DIR:-/etc/systemd/system}

have() {
    command -v "$1" >/dev/null 2>&1
}

# read_input: every stdin line is key=value; the caller's take KEY VALUE stores a known key and
# returns 1 for an unknown one. Values are only ever assigned, never evaluated.
read_input() {
    seen=' '
    lineno=0
    while IFS= read -r line || [ -n "$line" ]; do
        lineno=$((lineno + 1))
        case $line in '' | '#'*) continue ;; esac
        case $line in *=*) ;; *) fail 2 "stdin line $lineno is not key=value" ;; esac
        key=${line%%=*}
        value=${line#*=}
        case $key in '' | *[!a-z0-9_]*) fail 2 "stdin line $lineno: a key is lowercase letters, digits and _" ;; esac
        case $seen in *" $key "*) fail 2 "stdin key '$key' given twice" ;; esac
        seen="$seen$key "
        take "$key" "$value" || fail 2 "unknown stdin key '$key'"
    done
}

# check_word FIELD VALUE: a name safe as a file name, a unit name and a user name.
check_word() {
    case $2 in
        '' | [!A-Za-z0-9]* | *[!A-Za-z0-9._-]*) fail 2 "$1 must be letters, digits, '.', '_' or '-' (starting with a letter or digit)" ;;
    esac
    [ "${#2}" -le 64 ] || fail 2 "$1 is longer than 64 characters"
}

# check_path FIELD VALUE: an absolute path without characters a unit file or .env would interpret.
check_path() {
    case $2 in
        /*) ;;
        *) fail 2 "$1 must be an absolute path" ;;
    esac
    case $2 in *[!A-Za-z0-9._/+-]* | */../* | */..) fail 2 "$1 has characters outside [A-Za-z0-9._/+-]" ;; esac
}

# check_secret FIELD VALUE: tokens and JIT configs are base64/alphanumeric; anything else is refused
# without echoing it (the value then goes into an EnvironmentFile or the environment, never argv).
check_secret() {
    case $2 in
        '') fail 2 "$1 is empty" ;;
        *[!A-Za-z0-9+/=_.-]*) fail 2 "$1 has characters a token never has" ;;
    esac
}

# check_text FIELD VALUE: free text (labels, URLs, images) without control characters. It is only
# ever passed as one argv element or written as one state line.
check_text() {
    case $2 in *[![:print:]]*) fail 2 "$1 has control characters" ;; esac
}

# runner_identity WANTED [nocreate]: sets self (1 when the login user runs the runner), ruser, ruid, rgid, rhome.
# As root: the dedicated non-root user WANTED (default $CML_RUNNER_USER from the host's environment,
# else cml-runner), created when missing.
runner_identity() {
    if [ "$(id -u)" != 0 ]; then
        self=1
        ruser=$(id -un)
        [ -z "$1" ] || [ "$1" = "$ruser" ] || fail 2 "runner_user '$1' needs root; logged in as $ruser"
        ruid=$(id -u)
        rgid=$(id -g)
        rhome=${HOME:-}
        [ -n "$rhome" ] || fail 1 "HOME is not set for $ruser"
        return
    fi
    self=0
    ruser=${1:-${CML_RUNNER_USER:-cml-runner}}
    check_word runner_user "$ruser"
    [ "$ruser" != root ] || fail 2 "runner_user must not be root"
    entry=$(passwd_entry "$ruser")
    if [ -z "$entry" ] || [ "${entry%%:*}" != "$ruser" ]; then
        [ "${2:-}" != nocreate ] || return 1
        have useradd || fail 1 "user $ruser does not exist and useradd is missing"
        useradd --system --create-home --user-group --shell /bin/sh "$ruser" >&2 ||
            fail 1 "useradd $ruser failed"
        say user_created "$ruser"
        entry=$(passwd_entry "$ruser")
    fi
    # name:password:uid:gid:gecos:home:shell, read without starting a program per field
    IFS=: read -r pname _ ruid rgid _ rhome _ <<EOF
$entry
EOF
    [ "$pname" = "$ruser" ] || fail 1 "user $ruser has no passwd entry of its own (a uid is not a name)"
    [ "$ruid" != 0 ] || fail 2 "runner_user $ruser has uid 0"
    [ -n "$rhome" ] || fail 1 "user $ruser has no home directory"
    [ "${2:-}" != nocreate ] || return 0
    if getent group docker >/dev/null 2>&1 && ! id -nG "$ruser" | tr ' ' '\n' | grep -qx docker; then
        usermod -aG docker "$ruser" >&2 || fail 1 "could not add $ruser to the docker group"
    fi
}

# passwd_entry USER: USER's passwd line (NSS through getent where there is one), empty when none.
passwd_entry() {
    if have getent; then
        getent passwd "$1" 2>/dev/null
    else
        awk -F: -v u="$1" '$1 == u { print; exit }' /etc/passwd
    fi
}

# as_runner CMD...: run CMD as the runner user, keeping the environment (HOME/USER set to theirs).
as_runner() {
    if [ "$self" = 1 ]; then
        "$@"
    elif have setpriv; then
        setpriv --reuid="$ruid" --regid="$rgid" --init-groups \
            env HOME="$rhome" USER="$ruser" LOGNAME="$ruser" "$@"
    elif have runuser; then
        runuser -u "$ruser" -- env HOME="$rhome" USER="$ruser" LOGNAME="$ruser" "$@"
    else
        fail 1 "neither setpriv nor runuser is installed (util-linux)"
    fi
}

# detach LOG CMD...: replace this (sub)shell by CMD as the runner user in a new session, with
# stdin from /dev/null and output appended to LOG. Call as `( detach ... ) &`; $! is then the
# session leader (setsid, setpriv, env, sh and nohup all exec), the process group teardown signals.
detach() {
    log=$1
    shift
    set -- sh -c 'log=$1; shift; exec nohup "$@" </dev/null >>"$log" 2>&1' sh "$log" "$@"
    if [ "$self" != 1 ]; then
        if have setpriv; then
            set -- setpriv --reuid="$ruid" --regid="$rgid" --init-groups \
                env HOME="$rhome" USER="$ruser" LOGNAME="$ruser" "$@"
        else
            set -- runuser -u "$ruser" -- env HOME="$rhome" USER="$ruser" LOGNAME="$ruser" "$@"
        fi
    fi
    exec setsid "$@"
}

# use_init WANTED: sets init to systemd or setsid. systemd only as root and when it runs
# (/run/systemd/system, as sd_booted(3) checks); WANTED=systemd|other comes from the controller's probe.
use_init() {
    case ${1:-auto} in
        systemd) init=systemd ;;
        other) init=setsid ;;
        auto) if [ -d /run/systemd/system ]; then init=systemd; else init=setsid; fi ;;
        *) fail 2 "init must be auto, systemd or other" ;;
    esac
    if [ "$init" = systemd ] && [ "$self" = 1 ]; then
        init=setsid
        say note "not root: the runner runs under setsid, not a system unit"
    fi
    if [ "$init" = systemd ] && ! have systemctl; then
        init=setsid
        say note "systemctl not found: the runner runs under setsid"
    fi
}

# runner_paths HOME_OVERRIDE NAME: sets base (where runners live), dir, state and unit.
runner_paths() {
    base=${1:-${CML_RUNNER_HOME:-$rhome/cml-runners}}
    check_path home "$base"
    dir=$base/$2
    state=$dir/cml-state
    unit=cml-runner-$2
}

# ensure_base: the runners' folder, owned by the runner user.
ensure_base() {
    [ -d "${base%/*}" ] || fail 1 "${base%/*} does not exist (pass home=, or give $ruser a home)"
    if [ ! -d "$base" ]; then
        mkdir -p "$base" || fail 1 "cannot create $base"
        [ "$self" = 1 ] || chown "$ruid:$rgid" "$base" || fail 1 "cannot chown $base"
    fi
    as_runner mkdir -p "$dir" || fail 1 "cannot create $dir as $ruser"
}

# state_get KEY: a value from the state file (read as the runner user, who owns it).
# The start both install scripts share, after their input is read and checked: the runner user, init
# system, paths and base folder; sets `sha` (the package's sha256, empty without one) and `was` (the mode
# this runner was installed in, empty when new), and refuses a change of mode.
# shellcheck disable=SC2034  # sha is read by the install scripts
begin_install() {
    runner_identity "$runner_user"
    use_init "$init"
    runner_paths "$home" "$name"
    ensure_base
    sha=''
    [ -z "$package" ] || sha=$(sha256_of "$package") || fail 1 "cannot read $package"
    was=$(state_get mode)
    [ -z "$was" ] || [ "$was" = "$mode" ] ||
        fail 1 "runner $name exists in $was mode; tear it down first"
}

state_get() {
    as_runner cat "$state" 2>/dev/null | sed -n "s/^$1=//p" | tail -n 1
}

# file_set FILE KEY=VALUE...: merge keys into a key=value file (the state, the runner's .env),
# read and written atomically as the runner user, so a link planted in their folder gains nothing.
file_set() {
    f=$1
    shift
    old=$(as_runner cat "$f" 2>/dev/null || true)
    {
        printf '%s\n' "$old" | while IFS= read -r l; do
            [ -n "$l" ] || continue
            keep=1
            for kv in "$@"; do [ "${kv%%=*}" = "${l%%=*}" ] && keep=0; done
            [ "$keep" = 0 ] || printf '%s\n' "$l"
        done
        for kv in "$@"; do printf '%s\n' "$kv"; done
    } | as_runner sh -c 't="$1.tmp.$$"; cat >"$t" && mv -f "$t" "$1"' sh "$f" ||
        fail 1 "cannot write $f"
}

# state_set KEY=VALUE...: merge into this runner's state file.
state_set() {
    file_set "$state" "$@"
}

# put_file SRC DEST MODE: copy SRC (opened by this shell) to DEST, written as the runner user.
put_file() {
    as_runner sh -c 't="$1.tmp.$$"; cat >"$t" && chmod "$2" "$t" && mv -f "$t" "$1"' sh "$2" "$3" <"$1" ||
        fail 1 "cannot write $2"
}

now() {
    date -u +%Y-%m-%dT%H:%M:%SZ
}

sha256_of() {
    if have sha256sum; then
        sha256sum <"$1" | cut -d' ' -f1
    else
        shasum -a 256 <"$1" | cut -d' ' -f1
    fi
}

# pid_alive PID: the process exists and is not a zombie (a detached runner that exited may linger
# as one where nothing reaps it).
pid_alive() {
    kill -0 "$1" 2>/dev/null || return 1
    [ -r "/proc/$1/stat" ] || return 0
    st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
    [ "$st" != Z ]
}

# alive: is the runner recorded in the state running (its unit active, or its process there)?
alive() {
    u=$(state_get unit)
    p=$(state_get pid)
    if [ -n "$u" ]; then
        systemctl is-active --quiet "$u" 2>/dev/null
    elif [ -n "$p" ]; then
        pid_alive "$p"
    else
        return 1
    fi
}

# stop_runner: stop the unit or the process group recorded in the state; idempotent.
stop_runner() {
    u=$(state_get unit)
    p=$(state_get pid)
    [ -n "$u" ] || [ ! -f "$unitdir/$unit.service" ] || u=$unit
    if [ -n "$u" ] && have systemctl; then
        systemctl disable --now "$u" >/dev/null 2>&1 || systemctl stop "$u" >/dev/null 2>&1 || true
        if [ -f "$unitdir/$u.service" ]; then
            rm -f "$unitdir/$u.service"
            systemctl daemon-reload >/dev/null 2>&1 || true
        fi
    fi
    if [ -n "$p" ] && pid_alive "$p"; then
        kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
        i=0
        while pid_alive "$p" && [ "$i" -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true
    fi
}

# install_unit EXEC: write /etc/systemd/system/$unit.service from cml-runner.service.in; enable, start.
install_unit() {
    tpl=$here/cml-runner.service.in
    [ -f "$tpl" ] || fail 1 "unit template $tpl is missing"
    if ! sed -e "s|@NAME@|$name|g" -e "s|@FORGE@|$forge|g" -e "s|@USER@|$ruser|g" \
        -e "s|@DIR@|$dir|g" -e "s|@EXEC@|$1|g" "$tpl" >"$unitdir/$unit.service.tmp" ||
        ! mv -f "$unitdir/$unit.service.tmp" "$unitdir/$unit.service"; then
        fail 1 "cannot write $unitdir/$unit.service"
    fi
    systemctl daemon-reload >&2 || fail 1 "systemctl daemon-reload failed"
    systemctl enable --now "$unit" >&2 || fail 1 "systemctl enable --now $unit failed"
}

# start_transient SECRET_VAR SECRET EXEC...: a transient systemd unit running EXEC as the runner user.
# The secret goes through an EnvironmentFile under /run (root, 0600), read by systemd when the unit
# starts (Type=exec: systemd-run returns once the runner was exec'd) and deleted right after.
# systemd-run --setenv would put it on argv. With SECRET_VAR empty no file is written.
start_transient() {
    var=$1
    secret=$2
    shift 2
    set -- --property=WorkingDirectory="$dir" --setenv=HOME="$rhome" --setenv=USER="$ruser" "$@"
    envfile=
    if [ -n "$var" ]; then
        envdir=/run/cml-runner
        [ -d "$envdir" ] || mkdir -m 0700 "$envdir" || fail 1 "cannot create $envdir"
        envfile=$envdir/$name.env
        trap 'rm -f "$envfile"' EXIT
        (umask 077 && printf '%s=%s\n' "$var" "$secret" >"$envfile") || fail 1 "cannot write $envfile"
        set -- --property=EnvironmentFile="$envfile" "$@"
    fi
    systemctl reset-failed "$unit" >/dev/null 2>&1 || true
    systemd-run --quiet --collect --unit="$unit" --uid="$ruid" --gid="$rgid" --property=Type=exec "$@" >&2
    rc=$?
    if [ -n "$envfile" ]; then
        rm -f "$envfile"
        trap - EXIT
    fi
    [ "$rc" = 0 ] || fail 1 "systemd-run $unit failed (exit $rc)"
}

# start_setsid SECRET_VAR SECRET CMD...: CMD detached (setsid + nohup), the secret exported to that
# child only. Sets pid.
start_setsid() {
    var=$1
    secret=$2
    shift 2
    (
        if [ -n "$var" ]; then
            export "$var=$secret"
        fi
        cd "$dir" && detach "$dir/cml-runner.log" "$@"
    ) &
    pid=$!
    sleep 0.2
    pid_alive "$pid" || fail 1 "the runner exited at once; see $dir/cml-runner.log"
}
