"""A ``cml run`` container lives no longer than the cml process that started it, however cml ends.

Two mechanisms, because a SIGKILL (a CI runner cancelling a job, the OOM killer) runs no cleanup code:

- **From inside: a watchdog.** Right after the container starts, cml starts :data:`WATCHDOG` in it with
  ``docker exec``, its stdin attached to a socket that only cml holds. When cml ends in any way the kernel
  closes that socket, the Docker daemon closes the watchdog's stdin, and the watchdog sends SIGTERM to the
  container's PID 1 and, after a grace period, SIGKILL to every other process in it. PID 1 is Docker's init
  (tini, ``--init``), which passes SIGTERM on to the command and exits with it: a command that is PID 1
  itself (``python train.py``) would ignore a SIGTERM sent from inside its own PID namespace. The container
  then stops; the command's own stdin is untouched (``/dev/null``, as without the watchdog). The watchdog
  needs ``sh`` in the image; without it the container runs on and only the reaper below removes it.
- **From outside: the reaper.** Every container carries its owner's identity in labels: the boot id
  (``/proc/sys/kernel/random/boot_id``), the PID namespace, the pid and the process's start time (so a pid
  reused by another process does not count as the owner). Every ``cml run`` first removes the containers
  of this boot and PID namespace whose owner is gone (or a zombie). It never touches a container without
  these labels, one from another boot, host or PID namespace (cml in another container), or one whose
  owner still runs or cannot be inspected.

A stopped container is not removed by the daemon itself (``--rm``) because the exit code is read after
the container exits; the next ``cml run`` on the host removes it.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cml.log import logger

#: Label on every container cml starts (value ``1``).
LABEL = "dev.cml.run"
BOOT_ID = f"{LABEL}.boot-id"
PID_NS = f"{LABEL}.pid-ns"
PID = f"{LABEL}.pid"
START_TIME = f"{LABEL}.start-time"

#: Runs in the container beside the command; ``$1`` is the grace period in seconds. ``read`` returns at
#: end of input: cml never writes, so that is when cml's end closes. ``kill -KILL -1`` spares PID 1 and
#: the watchdog itself; once the command is dead, init exits and the container stops.
WATCHDOG = 'while read -r _; do :; done; kill -TERM 1; sleep "$1"; kill -KILL -1'

_PROC = Path("/proc")


@dataclass(frozen=True, kw_only=True)
class Owner:
    """The cml process that owns a container: unique across hosts, boots and pid reuse."""

    boot_id: str
    pid_ns: str
    pid: int
    start_time: str

    def labels(self) -> dict[str, str]:
        """The container labels that name this owner (with :data:`LABEL`)."""
        return {
            LABEL: "1",
            BOOT_ID: self.boot_id,
            PID_NS: self.pid_ns,
            PID: str(self.pid),
            START_TIME: self.start_time,
        }

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> Owner | None:
        """The owner a container's labels name; None when they are not all there or malformed."""
        pid = labels.get(PID, "")
        fields = (labels.get(BOOT_ID), labels.get(PID_NS), labels.get(START_TIME))
        if labels.get(LABEL) != "1" or not pid.isdigit() or int(pid) < 1 or not all(fields):
            return None
        return cls(boot_id=fields[0] or "", pid_ns=fields[1] or "", pid=int(pid), start_time=fields[2] or "")


def this_process(proc: Path = _PROC) -> Owner | None:
    """The running cml process as an :class:`Owner`; None without a Linux ``/proc`` (macOS, Windows)."""
    try:
        boot_id = (proc / "sys/kernel/random/boot_id").read_text().strip()
        pid_ns = os.readlink(proc / "self/ns/pid")
    except OSError:
        return None
    stat = _stat(os.getpid(), proc)
    if not boot_id or stat is None:
        return None
    return Owner(
        boot_id=boot_id, pid_ns=pid_ns.removeprefix("pid:[").rstrip("]"), pid=os.getpid(), start_time=stat[1]
    )


def _stat(pid: int, proc: Path = _PROC) -> tuple[str, str] | None:
    """``(state, start time)`` of ``pid`` from ``/proc/PID/stat``; None when it cannot be read."""
    from cml import proc as processes

    fields = processes.stat(pid, proc)
    if fields is None or len(fields) < 20:
        return None
    return fields[0], fields[19]  # field 3 (state) and field 22 (start time, clock ticks after boot)


def is_alive(owner: Owner, proc: Path = _PROC) -> bool:
    """Whether ``owner`` (of this boot and PID namespace) still runs.

    A pid with no process, a zombie, or a process started at another time (the pid was reused) is gone;
    a process that exists but cannot be inspected (``hidepid``) counts as alive.
    """
    try:
        os.kill(owner.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, under another uid
    stat = _stat(owner.pid, proc)
    if stat is None:
        return True
    state, start_time = stat
    return state not in ("Z", "X") and start_time == owner.start_time


def reap(client: Any, me: Owner) -> list[str]:
    """Remove the containers of ``me``'s boot and PID namespace whose owner is gone; return their names.

    Calls ``GET /containers/json`` (filtered by our labels) and ``DELETE /containers/{id}?force=1``.
    Never raises: a failure is logged (``--debug``) and the run goes on.
    """
    import docker
    import requests

    filters = {"label": [f"{BOOT_ID}={me.boot_id}", f"{PID_NS}={me.pid_ns}"]}
    try:
        found = client.api.containers(all=True, filters=filters)
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        logger.debug("cml: listing containers to reap: %s", exc)
        return []
    reaped = []
    for container in found:
        owner = Owner.from_labels(container.get("Labels") or {})
        if owner is None or (owner.boot_id, owner.pid_ns) != (me.boot_id, me.pid_ns) or is_alive(owner):
            continue
        name = str((container.get("Names") or [container["Id"]])[0]).lstrip("/")
        try:
            client.api.remove_container(container["Id"], force=True)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            logger.debug("cml: removing %s: %s", name, exc)
            continue
        logger.info(
            "cml: removed container %s: the cml process that started it (pid %d) is gone", name, owner.pid
        )
        reaped.append(name)
    return reaped


class Watchdog:
    """The in-container watchdog (:data:`WATCHDOG`); cml holds its stdin until :meth:`close`."""

    def __init__(self) -> None:
        self._sock: Any = None

    def start(self, client: Any, container: str, user: str, grace: int) -> None:
        """Start the watchdog in the running ``container`` as ``user``; a failure is only logged.

        Calls ``POST /containers/{id}/exec`` and ``POST /exec/{id}/start`` (stdin attached, hijacked).
        """
        import docker
        import requests

        try:
            run = client.api.exec_create(
                container,
                ["sh", "-c", WATCHDOG, "cml-watchdog", str(grace)],
                stdin=True,
                stdout=False,
                stderr=False,
                user=user,
            )
            self._sock = client.api.exec_start(run["Id"], socket=True)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            # The command already ended, or the engine cannot exec: the reaper remains.
            logger.debug("cml: watchdog for %s: %s", container, exc)

    def close(self) -> None:
        """Close cml's end: a watchdog still running stops its container. Call once the container is gone."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        # The SDK hands back a SocketIO over the connection; closing the wrapper leaves the socket open.
        raw = getattr(sock, "_sock", sock)
        try:
            raw.shutdown(socket.SHUT_RDWR)
        except OSError as exc:  # already closed by the daemon
            logger.debug("cml: closing the watchdog: %s", exc)
        sock.close()
        raw.close()
