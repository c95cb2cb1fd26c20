"""The runner package for a host, fetched once on the controller and kept only when its sha256 matches.

Packages come from hosts that are not the forge's API (``github.com/actions/runner/releases/...``
and the object store behind it, GitLab's S3 bucket), so no forge token ever travels with them: the
session has no credentials, ``.netrc`` included, and every request leaves without an
``Authorization``, ``PRIVATE-TOKEN`` or ``JOB-TOKEN`` header. Each download has an overall deadline
(the transport's watch, :func:`cml.forges.transport.watch`) and a size cap. Bytes go to a temporary
file in the cache directory, are hashed on the way, and the file is renamed to
``CACHE/<sha256>/<filename>`` only when the sha256 is the one the forge published: a rerun finds it
there and downloads nothing. ``--runner-package FILE`` (air-gapped sites) goes through
:func:`from_file`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from cml.errors import ForgeError, InputError
from cml.log import logger
from cml.runner import Package

if TYPE_CHECKING:
    import requests

#: Seconds one download may take from the request to its last byte (tests lower it).
DEADLINE = 900.0
#: The largest package accepted: an actions-runner tarball is ~200 MB, gitlab-runner ~80 MB.
MAX_SIZE = 1024 * 2**20
#: The largest small file read from a release host (``release.sha256``).
MAX_TEXT = 2**20
_CHUNK = 2**16
_SHA256 = re.compile(r"[0-9a-f]{64}")
_NO_TOKENS = ("authorization", "private-token", "job-token")


class ChecksumMismatch(ForgeError):
    """A downloaded package is not the one the forge published (exit 4); nothing was kept."""


def _session() -> requests.Session:
    """A ``requests`` session without credentials, whose adapter the deadline watch can cut."""
    import requests

    from cml.forges.transport import Timed

    class NoTokens(Timed):
        """Strip any credential header (``.netrc`` auth is re-applied by requests on redirects)."""

        def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
            for name in list(request.headers):
                if name.lower() in _NO_TOKENS:
                    del request.headers[name]
            return super().send(request, *args, **kwargs)

    session = requests.Session()
    session.auth = lambda request: request  # set: requests does not look up .netrc
    adapter = NoTokens()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = "cml-runner"
    return session


def _where(url: str) -> str:
    from cml.forges.transport import where

    return where(url)


def _checked_url(url: str, what: str) -> str:
    """``url`` when it is http(s); ForgeError otherwise (a forge answer naming ``file://`` or worse)."""
    if not url.startswith(("https://", "http://")):
        raise ForgeError(f"{what}: the download URL is not http(s) ({url[:80]!r}); not fetched")
    return url


def _stream(url: str, out: IO[bytes] | None, *, what: str, cap: int) -> tuple[bytes, str, int]:
    """GET ``url`` under the deadline into ``out`` (or memory); return (content if kept in memory,
    sha256, size). Raises ForgeError for an error status, an answer over ``cap``, a cut or failed
    connection."""
    import requests

    from cml.forges.transport import watch

    digest, size, kept = hashlib.sha256(), 0, bytearray()
    with _session() as session, watch(DEADLINE) as timer:
        try:
            with session.get(_checked_url(url, what), stream=True, timeout=(15, 60)) as response:
                if response.status_code != 200:
                    raise ForgeError(f"{what}: {_where(url)} answered {response.status_code}")
                for chunk in response.iter_content(_CHUNK):
                    size += len(chunk)
                    if size > cap:
                        raise ForgeError(f"{what}: {_where(url)} sent more than {cap // 2**20} MiB; refused")
                    digest.update(chunk)
                    if out is None:
                        kept += chunk
                    else:
                        out.write(chunk)
        except (requests.RequestException, OSError) as exc:
            if timer.fired:
                raise _late(what, url) from None
            raise ForgeError(f"{what}: download from {_where(url)} failed ({type(exc).__name__})") from None
    if timer.fired:  # cut inside the headers, http.client may take what came as a whole answer
        raise _late(what, url)
    return bytes(kept), digest.hexdigest(), size


def _late(what: str, url: str) -> ForgeError:
    return ForgeError(f"{what}: {_where(url)} sent no complete answer within {DEADLINE:g} s; not kept")


def get_text(url: str, *, what: str) -> str:
    """A small text file from a release host (no token, deadline, :data:`MAX_TEXT` cap)."""
    data, _, _ = _stream(url, None, what=what, cap=MAX_TEXT)
    return data.decode("utf-8", "replace")


def cached(pkg: Package, cache: Path) -> Path:
    """Where ``pkg`` is kept: ``cache/<sha256>/<filename>``. Raises ForgeError for a bad sha256/name."""
    if not _SHA256.fullmatch(pkg.sha256):
        raise ForgeError(
            f"{pkg.filename}: the forge published no usable sha256 for it ({pkg.sha256[:70]!r}); not fetched",
            hint="download it yourself, check it, and pass it with --runner-package FILE",
        )
    name = Path(pkg.filename).name
    if not name or name in (".", "..") or name != pkg.filename:
        raise ForgeError(f"the forge named the runner package {pkg.filename[:80]!r}: not a file name")
    return cache / pkg.sha256 / name


def fetch(pkg: Package, cache: Path) -> Path:
    """The verified package file in ``cache``, downloaded (without any token) unless already there.

    Raises ChecksumMismatch (exit 4, naming the file and both sha256) when the bytes are not the
    ones published, ForgeError for a failed, oversized or too slow download; nothing is kept then.
    """
    final = cached(pkg, cache)
    if final.is_file() and _sha256_of(final) == pkg.sha256:
        logger.info("%s: already in %s (sha256 %s)", pkg.filename, final.parent, pkg.sha256)
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            _, actual, size = _stream(pkg.url, out, what=f"download {pkg.filename}", cap=MAX_SIZE)
        if actual != pkg.sha256:
            raise ChecksumMismatch(
                f"{pkg.filename} from {_where(pkg.url)}: sha256 {actual}, expected {pkg.sha256}; not kept",
                hint="the download was altered or truncated on the way; run again, or pass a file "
                "you checked with --runner-package",
            )
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    logger.info("%s: %d bytes, sha256 %s verified", pkg.filename, size, actual)
    return final


def from_file(path: Path, pkg: Package | None) -> Path:
    """``--runner-package FILE``: the file, checked against ``pkg``'s sha256 when the forge's is known.

    Without ``pkg`` the file is accepted with a warning naming its sha256. Raises InputError (exit 2)
    for a missing or non-regular file, one over :data:`MAX_SIZE`, or a sha256 that does not match.
    """
    actual = _sha256_of_given(path)
    if pkg is None:
        logger.warning(
            "--runner-package %s: not checked against the forge (sha256 %s): make sure it is the "
            "runner package you meant",
            path,
            actual,
        )
        return path
    if actual != pkg.sha256:
        raise InputError(
            f"--runner-package {path}: sha256 {actual}, expected {pkg.sha256} "
            f"(the forge's {pkg.filename}, version {pkg.version})",
            hint="pass the package the forge publishes for this OS and architecture",
        )
    return path


def _sha256_of_given(path: Path) -> str:
    """sha256 of a file the user named: a regular file of at most MAX_SIZE bytes, else InputError."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"--runner-package {path}: cannot read it ({exc.strerror})") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise InputError(f"--runner-package {path}: not a regular file")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > MAX_SIZE:
            raise InputError(f"--runner-package {path}: larger than {MAX_SIZE // 2**20} MiB")
        return _digest(handle)


def _sha256_of(path: Path) -> str:
    with path.open("rb") as handle:
        return _digest(handle)


def _digest(handle: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := handle.read(2**20):
        digest.update(chunk)
    return digest.hexdigest()
