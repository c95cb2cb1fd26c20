"""Run a :class:`~cml.container.RunSpec` on a Docker engine through the docker SDK (imported lazily).

Logs stream live (redacted, a line at a time), the container's exit code is returned, and the
container is removed on every way out: normal exit, ``--timeout``, an error, SIGINT or SIGTERM. When
cml itself is killed (SIGKILL), :mod:`cml.container.lifetime` stops the container from inside and the
next ``cml run`` removes it. The command runs under Docker's init (``--init``), which passes signals on.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from typing import Any, BinaryIO

from cml.container import ContainerError, Gpus, RunSpec, TimedOut, lifetime
from cml.container.signals import Deadline, signals_ignored, sigterm_as_interrupt
from cml.container.stream import pump
from cml.errors import ConfigError, InputError
from cml.log import logger

DEFAULT_HOST = "unix:///var/run/docker.sock"
#: Seconds a container gets between SIGTERM and SIGKILL when cml is interrupted.
STOP_GRACE = 5


def connect(env: Mapping[str, str]) -> Any:
    """A docker client for ``DOCKER_HOST`` (else the default socket), pinged; ConfigError when unreachable."""
    import docker
    import requests

    host = env.get("DOCKER_HOST") or DEFAULT_HOST
    try:
        client = docker.from_env(environment=dict(env))
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise ConfigError(
            f"cannot reach the Docker daemon at {host}",
            hint="start Docker or point DOCKER_HOST at its socket",
        ) from exc
    return client


def run(spec: RunSpec, env: Mapping[str, str], out: BinaryIO, err: BinaryIO) -> int:
    """Run ``spec`` and return the container's exit code; the container never outlives this call.

    Raises ConfigError (no daemon, no NVIDIA runtime), InputError (image missing and not pullable),
    ContainerError (the command cannot start: 127 not found, 126 not executable), TimedOut (124),
    KeyboardInterrupt on SIGINT/SIGTERM after stopping the container.
    """
    client = connect(env)
    owner = lifetime.this_process()
    if owner is not None:
        lifetime.reap(client, owner)
    if spec.gpus is not None:
        _check_gpus(client, env)
    _ensure_image(client, spec)
    name = f"cml-run-{secrets.token_hex(6)}"
    watchdog = lifetime.Watchdog()
    try:
        with sigterm_as_interrupt():
            _create(client, spec, name, owner.labels() if owner else {lifetime.LABEL: "1"})
            return _start_and_follow(client, spec, name, out, err, watchdog)
    except KeyboardInterrupt:
        with signals_ignored():
            _quietly(client.api.stop, name, timeout=STOP_GRACE)
        raise
    finally:
        with signals_ignored():
            _quietly(client.api.remove_container, name, force=True)
            watchdog.close()


_GPU_HINT = "GPUs need the NVIDIA Container Toolkit on the Docker host: `nvidia-ctk runtime configure --runtime=docker`"


def _check_gpus(client: Any, env: Mapping[str, str]) -> None:
    runtimes = client.info().get("Runtimes") or {}
    if "nvidia" not in runtimes:
        host = env.get("DOCKER_HOST") or DEFAULT_HOST
        raise ConfigError(
            f"--gpus: the Docker daemon at {host} has no NVIDIA runtime (runtimes: {', '.join(sorted(runtimes))})",
            hint=_GPU_HINT,
        )


def _ensure_image(client: Any, spec: RunSpec) -> None:
    import docker

    if spec.pull != "always":
        try:
            client.images.get(spec.image)
            return
        except docker.errors.ImageNotFound:
            if spec.pull == "never":
                raise InputError(f"image {spec.image!r} is not on the Docker daemon (--pull never)") from None
        except docker.errors.APIError as exc:
            raise InputError(f"image {spec.image!r}: {_one_line(exc)}") from None
    logger.info("cml: pulling %s", spec.image)
    try:
        client.images.pull(spec.image)
    except docker.errors.APIError as exc:
        raise InputError(
            f"image {spec.image!r} is not available locally and pulling it failed: {_one_line(exc)}"
        ) from None


def _create(client: Any, spec: RunSpec, name: str, labels: Mapping[str, str]) -> None:
    import docker

    ws = str(spec.workspace)
    binds = [f"{ws}:{ws}:rw"] + [
        f"{v.source}:{v.target}:{'ro' if v.read_only else 'rw'}" for v in spec.volumes
    ]
    host_config = client.api.create_host_config(
        binds=binds, network_mode=spec.network, device_requests=_device_requests(spec.gpus), init=True
    )
    try:
        client.api.create_container(
            spec.image,
            command=list(spec.command),
            name=name,
            user=spec.user,
            environment=dict(spec.env),
            working_dir=str(spec.workdir),
            host_config=host_config,
            labels=dict(labels),
        )
    except docker.errors.APIError as exc:
        raise ContainerError(f"{spec.describe()}: cannot create the container: {_one_line(exc)}") from None


def _device_requests(gpus: Gpus | None) -> list[Any] | None:
    from docker.types import DeviceRequest

    if gpus is None:
        return None
    if gpus.device_ids:
        return [DeviceRequest(device_ids=list(gpus.device_ids), capabilities=[["gpu"]])]
    return [DeviceRequest(count=gpus.count, capabilities=[["gpu"]])]


def _start_and_follow(
    client: Any, spec: RunSpec, name: str, out: BinaryIO, err: BinaryIO, watchdog: lifetime.Watchdog
) -> int:
    import docker

    # Attach before start so no early output is missed.
    frames = client.api.attach(name, stdout=True, stderr=True, stream=True, logs=True, demux=True)
    try:
        client.api.start(name)
    except docker.errors.APIError as exc:
        raise _start_error(spec, exc) from None
    watchdog.start(client, name, spec.user, STOP_GRACE)
    with Deadline(spec.timeout, lambda: client.api.kill(name)) as deadline:
        held = pump(frames, out, err, withhold=_INIT_EXEC_FAILED.fullmatch)
        code: int = client.api.wait(name)["StatusCode"]
    if deadline.fired:
        raise TimedOut(
            f"{spec.describe()}: still running after --timeout {spec.timeout:g} s; container killed"
        )
    if held is not None and code in (1, 126, 127):
        raise _init_exec_error(spec, held, code)
    if held is not None:  # the command's own line after all
        err.write(held)
        err.flush()
    return code


# What Docker's init (tini) prints, as the container's first stderr line, when it cannot exec the
# command; it then exits 127 (not found), 126 (permission denied) or 1.
_INIT_EXEC_FAILED = re.compile(rb"\[FATAL tini \(\d+\)\] exec (.*) failed: (.*)\n")


def _init_exec_error(spec: RunSpec, line: bytes, code: int) -> ContainerError:
    found = _INIT_EXEC_FAILED.fullmatch(line)
    command, why = (part.decode(errors="replace") for part in (found.groups() if found else (b"", line)))
    reason = "executable file not found" if code == 127 else why.strip().lower()
    return ContainerError(
        f"{spec.image}: cannot run {command!r}: {reason}", exit_code=127 if code == 127 else 126
    )


def _start_error(spec: RunSpec, exc: Exception) -> ContainerError:
    text = _one_line(exc)
    found = re.search(r'exec: "([^"]*)": (.*?)(?:: unknown)?$', text)
    if not found:
        hint = _GPU_HINT if "could not select device driver" in text else None
        return ContainerError(f"{spec.describe()}: cannot start the container: {text}", hint=hint)
    reason = found[2]
    code = 126 if "permission denied" in reason else 127
    return ContainerError(f"{spec.image}: cannot run {found[1]!r}: {reason}", exit_code=code)


def _one_line(exc: Exception) -> str:
    text = getattr(exc, "explanation", None) or str(exc)
    return " ".join(str(text).split())


def _quietly(call: Any, *args: Any, **kwargs: Any) -> None:
    """Cleanup calls: a container that is already gone (or never made) is not an error."""
    try:
        call(*args, **kwargs)
    except Exception as exc:  # cleanup must not hide the real outcome
        logger.debug("cleanup %s: %s", getattr(call, "__name__", call), exc)
