"""Small fake runner packages that record how they were called.

* :func:`github_package` writes ``actions-runner-linux-{x64,arm64}-V.tar.gz`` holding ``config.sh``
  and ``run.sh`` (POSIX sh). Like the real ones (actions/runner ``CommandSettings``) they read any
  option from ``ACTIONS_RUNNER_INPUT_<NAME>``, refuse root without ``RUNNER_ALLOW_RUNASROOT``, and
  ``config.sh`` writes ``.runner`` (``agentId``) / ``.credentials``; ``run.sh`` reads the hooks from
  ``.env`` and keeps running until killed, or after one job when it is ephemeral (JIT config or
  ``--ephemeral``).
* :func:`gitlab_binary` writes ``gitlab-runner-linux-{amd64,arm64}``: ``register`` (token from
  ``CI_SERVER_TOKEN``, as ``--token`` reads it), ``run``, ``run-single --config --runner
  --max-builds``, ``unregister --config --name``, ``--version``.

Every call is recorded under the ``record`` folder given at build time (baked into the scripts, so it
works whoever starts them): one sub-folder per call with ``argv`` and ``environ`` (NUL-separated, the
environment the process was started with), ``uid`` and ``cwd``. Read them with :func:`calls`. A test
runs one "job" by creating ``fake-job`` in the runner folder (:func:`trigger_job`); the fake runs the
job-completed hook as the real runner does and leaves ``fake-job-done``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path

_RECORD = """record() {
    d=@RECORD@/$(date +%s%N)-$$-$1
    mkdir -p "$d.tmp"
    shift
    for a in "$@"; do printf '%s\\0' "$a"; done >"$d.tmp/argv"
    cat /proc/$$/environ >"$d.tmp/environ"
    id -u >"$d.tmp/uid"
    pwd >"$d.tmp/cwd"
    mv "$d.tmp" "$d"
}
"""

_CONFIG_SH = """#!/bin/sh
# Fake actions-runner config.sh: records argv/env/uid, sleeps a little (so tests can sample ps).
@RECORD_FN@
record config.sh "$@"
sleep @SLEEP@
here=$(cd "${0%/*}" && pwd)
cd "$here" || exit 1
if [ "$(id -u)" = 0 ] && [ -z "$RUNNER_ALLOW_RUNASROOT" ]; then
    echo "Must not run with sudo"; exit 1
fi
token=$ACTIONS_RUNNER_INPUT_TOKEN
name=$ACTIONS_RUNNER_INPUT_NAME url=$ACTIONS_RUNNER_INPUT_URL ephemeral=false unattended=no
command=configure
while [ $# -gt 0 ]; do
    case $1 in
        remove) command=remove ;;
        --unattended) unattended=yes ;;
        --ephemeral) ephemeral=true ;;
        --token) token=$2; shift ;;
        --name) name=$2; shift ;;
        --url) url=$2; shift ;;
        --labels | --work | --runnergroup) shift ;;
        --replace | --disableupdate) ;;
        *) echo "Unrecognized command-line input arguments: '$1'"; exit 1 ;;
    esac
    shift
done
if [ -z "$token" ]; then
    echo "Invalid configuration provided for token. Terminating unattended configuration."; exit 1
fi
if [ "$command" = remove ]; then
    [ -f .runner ] || { echo "Runner is not configured"; exit 1; }
    rm -f .runner .credentials
    echo "Runner removed successfully"
    exit 0
fi
[ "$unattended" = yes ] && [ -n "$url" ] && [ -n "$name" ] || { echo "missing --url/--name"; exit 1; }
id=$(printf '%s' "$name" | cksum | cut -d' ' -f1)
printf '{\\n  "agentId": %s,\\n  "agentName": "%s",\\n  "ephemeral": %s\\n}\\n' "$id" "$name" "$ephemeral" >.runner
printf '{"scheme": "OAuth"}\\n' >.credentials
echo "Runner successfully added"
"""

_RUN_SH = """#!/bin/sh
# Fake actions-runner run.sh: records argv/env/uid, then waits for jobs (a fake-job file).
@RECORD_FN@
record run.sh "$@"
here=$(cd "${0%/*}" && pwd)
cd "$here" || exit 1
if [ "$(id -u)" = 0 ] && [ -z "$RUNNER_ALLOW_RUNASROOT" ]; then
    echo "Must not run with sudo"; exit 1
fi
once=no
if [ -n "$ACTIONS_RUNNER_INPUT_JITCONFIG" ]; then
    once=yes
elif [ ! -f .runner ]; then
    echo "Not configured. Run config.(sh/cmd) to configure the runner."; exit 2
elif grep -q '"ephemeral": true' .runner; then
    once=yes
fi
hook=$(sed -n 's/^ACTIONS_RUNNER_HOOK_JOB_COMPLETED=//p' .env 2>/dev/null | tail -n 1)
trap 'exit 0' TERM INT
while :; do
    if [ -f fake-job ]; then
        rm -f fake-job
        [ -z "$hook" ] || bash -e "$hook"
        : >fake-job-done
        if [ "$once" = yes ]; then
            rm -f .runner .credentials
            exit 0
        fi
    fi
    sleep 0.1
done
"""

_GITLAB_RUNNER = """#!/bin/sh
# Fake gitlab-runner: records argv/env/uid for register / run / run-single / unregister.
@RECORD_FN@
cmd=${1:-}
[ $# -eq 0 ] || shift
if [ "$cmd" = --version ]; then echo "Version: @VERSION@"; exit 0; fi
record "gitlab-runner-$cmd" "$@"
config='' name='' url='' executor='' image='' gpus='' max=0 runner='' interactive=yes
token=$CI_SERVER_TOKEN
while [ $# -gt 0 ]; do
    case $1 in
        -c | --config) config=$2; shift ;;
        -n | --name) name=$2; shift ;;
        -r | --runner) runner=$2; shift ;;
        -u | --url) url=$2; shift ;;
        -t | --token) token=$2; shift ;;
        --executor) executor=$2; shift ;;
        --docker-image) image=$2; shift ;;
        --docker-gpus) gpus=$2; shift ;;
        --max-builds) max=$2; shift ;;
        --working-directory) shift ;;
        --non-interactive) interactive=no ;;
        *) echo "FATAL: flag provided but not defined: $1"; exit 1 ;;
    esac
    shift
done
[ -n "$config" ] || config=$HOME/.gitlab-runner/config.toml
jobs() {
    n=0
    while :; do
        if [ -f "${config%/*}/fake-job" ]; then
            rm -f "${config%/*}/fake-job"
            : >"${config%/*}/fake-job-done"
            n=$((n + 1))
            if [ "$max" -gt 0 ] && [ "$n" -ge "$max" ]; then exit 0; fi
        fi
        sleep 0.1
    done
}
trap 'exit 0' TERM INT
case $cmd in
    register)
        sleep @SLEEP@
        [ "$interactive" = no ] || { echo "interactive register"; exit 1; }
        [ -n "$token" ] || { echo "FATAL: Runner token is missing"; exit 1; }
        [ -n "$url" ] && [ -n "$executor" ] || { echo "FATAL: missing --url/--executor"; exit 1; }
        [ "$executor" != docker ] || [ -n "$image" ] || { echo "FATAL: --docker-image"; exit 1; }
        umask 077
        {
            echo 'concurrent = 1'
            echo '[[runners]]'
            echo "  name = \\"$name\\""
            echo "  url = \\"$url\\""
            echo "  token = \\"$token\\""
            echo "  executor = \\"$executor\\""
            if [ "$executor" = docker ]; then
                echo '  [runners.docker]'
                echo "    image = \\"$image\\""
                [ -z "$gpus" ] || echo "    gpus = \\"$gpus\\""
            fi
        } >"$config"
        echo "Runner registered successfully."
        ;;
    run)
        [ -f "$config" ] || { echo "FATAL: no $config"; exit 1; }
        jobs
        ;;
    run-single)
        [ -f "$config" ] && grep -q "name = \\"$runner\\"" "$config" || { echo "FATAL: Error loading runner by name"; exit 1; }
        jobs
        ;;
    unregister)
        grep -q "name = \\"$name\\"" "$config" 2>/dev/null || { echo "FATAL: no runner $name"; exit 1; }
        echo 'concurrent = 1' >"$config"
        ;;
    *) echo "unknown command $cmd"; exit 1 ;;
esac
"""


@dataclass(frozen=True, kw_only=True)
class Call:
    """One recorded call of a fake: which program, its argv (without $0), environment, uid, cwd."""

    command: str  # "config.sh", "run.sh", "gitlab-runner-register", ...
    argv: tuple[str, ...]
    env: dict[str, str]
    uid: int
    cwd: str


def _script(template: str, record: Path, sleep: float, version: str = "") -> str:
    fn = _RECORD.replace("@RECORD@", str(record))
    return template.replace("@RECORD_FN@", fn).replace("@SLEEP@", str(sleep)).replace("@VERSION@", version)


def _record_dir(record: Path) -> None:
    record.mkdir(parents=True, exist_ok=True)
    record.chmod(0o1777)  # the runner user records here too (its parents must be traversable)


def github_package(
    dest: Path, record: Path, *, arch: str = "x64", version: str = "2.330.0", sleep: float = 0.5
) -> Path:
    """Write ``dest/actions-runner-linux-ARCH-VERSION.tar.gz``; its scripts record into ``record``."""
    _record_dir(record)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, template in (("config.sh", _CONFIG_SH), ("run.sh", _RUN_SH)):
            data = _script(template, record, sleep).encode()
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mode, info.mtime = len(data), 0o755, 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
        bin_dir = tarfile.TarInfo("./bin")
        bin_dir.type, bin_dir.mode, bin_dir.mtime = tarfile.DIRTYPE, 0o755, 1_700_000_000
        tar.addfile(bin_dir)
    path = dest / f"actions-runner-linux-{arch}-{version}.tar.gz"
    path.write_bytes(gzip.compress(buf.getvalue(), mtime=0))  # same input, same bytes, same sha256
    return path


def gitlab_binary(
    dest: Path, record: Path, *, arch: str = "amd64", version: str = "17.5.0", sleep: float = 0.5
) -> Path:
    """Write ``dest/gitlab-runner-linux-ARCH`` (a sh script); it records into ``record``."""
    _record_dir(record)
    path = dest / f"gitlab-runner-linux-{arch}"
    path.write_text(_script(_GITLAB_RUNNER, record, sleep, version))
    path.chmod(0o755)
    return path


def sha256(path: Path) -> str:
    """The hex sha256 of a file (what the forge publishes for a package)."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def calls(record: Path, command: str | None = None) -> list[Call]:
    """The recorded calls in the order they happened, optionally only those of ``command``."""
    found: list[Call] = []
    done = [p for p in record.iterdir() if not p.name.endswith(".tmp")]
    for entry in sorted(done, key=lambda p: int(p.name.split("-", 1)[0])):
        name = entry.name.split("-", 2)[2]
        if command is not None and name != command:
            continue
        argv = (entry / "argv").read_bytes().split(b"\0")[:-1]
        env_items = (entry / "environ").read_bytes().split(b"\0")
        env = dict(item.decode().split("=", 1) for item in env_items if b"=" in item)
        uid = int((entry / "uid").read_text().strip() or "-1")
        found.append(
            Call(
                command=name,
                argv=tuple(a.decode() for a in argv),
                env=env,
                uid=uid,
                cwd=(entry / "cwd").read_text().strip(),
            )
        )
    return found


def trigger_job(runner_dir: Path) -> None:
    """Let the fake runner in ``runner_dir`` run one job (it then runs the job-completed hook)."""
    path = runner_dir / "fake-job"
    path.write_text("")
    os.chmod(path, 0o666)  # noqa: S103 - the runner user removes it when it "runs the job"
