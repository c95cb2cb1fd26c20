#!/bin/sh
# What this host is, in one round trip. cml sends this script on stdin: `sh -s -- [DIR]`, where DIR
# is where the runner home will live (free disk is measured on its nearest existing folder; default
# $HOME). Output: key=value lines, ending with end=1. Every probe tolerates a missing tool (no docker,
# no nvidia-smi, no systemd, a busybox userland) and nothing here changes the host. The body is one
# function, read whole before it runs, and every tool gets /dev/null as stdin, so no tool can eat
# the rest of the script.

main() {
    say probe 1
    say arch "$(uname -m 2>/dev/null)"
    if [ -r /etc/os-release ]; then
        os_release </etc/os-release
    fi
    say libc "$( (getconf GNU_LIBC_VERSION || ldd --version) 2>&1 | head -n 1)"
    say init "$(init_system)"
    say disk_free_kib "$(free_kib "${1:-$HOME}")"
    say user "$(id -un 2>/dev/null)"
    say uid "$(id -u 2>/dev/null)"
    if has docker && version=$(limited docker info --format '{{.ServerVersion}}' 2>/dev/null); then
        say docker "$(printf '%s\n' "$version" | head -n 1)"
    fi
    for tool in nvidia-ctk nvidia-container-runtime nvidia-container-cli; do
        if has "$tool"; then
            say nvidia_toolkit "$tool"
            break
        fi
    done
    if has nvidia-smi; then
        gpus=$(limited nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader,nounits 2>&1)
        say gpu_rc "$?"
        printf '%s\n' "$gpus" | while IFS= read -r line; do say gpu "$line"; done
        say cuda "$(limited nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9.]*\).*/\1/p' | head -n 1)"
    fi
    say end 1
}

say() { printf '%s=%s\n' "$1" "$2"; }

# The first ID= and VERSION_ID= of os-release on stdin, read by the shell itself (never evaluated).
os_release() {
    id='' version=''
    while IFS= read -r line || [ -n "$line" ]; do
        case $line in
            ID=*) [ -n "$id" ] || id=${line#ID=} ;;
            VERSION_ID=*) [ -n "$version" ] || version=${line#VERSION_ID=} ;;
        esac
    done
    [ -z "$id" ] || say os_id "$id"
    [ -z "$version" ] || say os_version "$version"
}

has() { command -v "$1" >/dev/null 2>&1; }

# A tool that may hang (a wedged GPU driver, a stuck docker daemon) gets at most 20 seconds.
limited() {
    if has timeout; then timeout 20 "$@"; else "$@"; fi
}

# systemd is the init system when it booted the host (sd_booted's test), or systemctl says it runs.
init_system() {
    if [ -d /run/systemd/system ]; then
        echo systemd
        return
    fi
    if has systemctl; then
        case "$(limited systemctl is-system-running 2>/dev/null)" in
            running | degraded | starting | initializing | maintenance)
                echo systemd
                return
                ;;
        esac
    fi
    echo other
}

free_kib() {
    dir=$1
    while [ -n "$dir" ] && [ ! -d "$dir" ]; do
        parent=$(dirname "$dir")
        [ "$parent" = "$dir" ] && break
        dir=$parent
    done
    df -Pk "${dir:-/}" 2>/dev/null | awk 'NR == 2 { print $4 }'
}

main "$@" </dev/null
