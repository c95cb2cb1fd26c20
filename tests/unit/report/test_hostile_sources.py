"""Fuzz the work-tree source with hostile file kinds: whatever a data file is, reading it gives a
snapshot or one InputError line naming it, at once (a FIFO or a device never blocks the read)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from cml import files
from cml.errors import InputError
from cml.report.snapshot import Snapshot, read_snapshot, work_tree
from cml.report.sources import PlotSpec, Sources

Make = Callable[[Path, Path, str], None]


def _regular(text: str) -> Make:
    return lambda path, _root, _cache: path.write_text(text)


def _link(target: Callable[[Path, str], str]) -> Make:
    return lambda path, root, cache: path.symlink_to(target(root, cache))


def _socket(path: Path, _root: Path, _cache: str) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(path))
    sock.close()  # the socket file stays


def _sparse(size: int) -> Make:
    def make(path: Path, _root: Path, _cache: str) -> None:
        with path.open("wb") as handle:
            handle.truncate(size)

    return make


def _cached(text: str) -> Make:
    def make(path: Path, _root: Path, cache: str) -> None:
        blob = Path(cache) / "md5" / path.name
        blob.write_text(text)
        path.symlink_to(blob)

    return make


_TEXT = st.sampled_from(
    ['{"acc": 0.5}', "acc: 1\n", "acc = 2\n", "epoch,acc\n1,0.5\n", "a: &x [1, *x]\n", "[[[[", "", "\0\xff"]
)
_KINDS: st.SearchStrategy[Make] = st.one_of(
    _TEXT.map(_regular),
    _TEXT.map(_cached),  # DVC's symlink cache, outside the tree
    st.sampled_from(
        [
            lambda p, r, c: os.mkfifo(p),
            lambda p, r, c: p.mkdir(),
            _socket,
            _link(lambda r, c: "/dev/zero"),
            _link(lambda r, c: "/dev/urandom"),
            _link(lambda r, c: "/dev/null"),
            _link(lambda r, c: str(r / ".git" / "config")),
            _link(lambda r, c: str(r / "vendor" / ".git" / "HEAD")),
            _link(lambda r, c: str(r / "nowhere.json")),  # dangling
            _link(lambda r, c: str(r / "m")),  # a link to itself once named m.*: a loop
            _link(lambda r, c: c),  # a directory outside
            _sparse(files.DATA_CAP + 1),
            _sparse(0),
        ]
    ),
)
_NAMES = st.sampled_from(["m.json", "m.yaml", "m.toml", "m.csv", "m.tsv"])


def _read_with_deadline(src: Sources, root: Path, seconds: float) -> Snapshot | InputError:
    """read_snapshot in a thread; fail the test if it is still reading after ``seconds``."""
    result: list[Snapshot | BaseException] = []

    def run() -> None:
        try:
            result.append(read_snapshot(src, work_tree(root), "work tree"))
        except BaseException as exc:  # the assertions below say which kinds are allowed
            result.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), "reading a data file blocked"
    (got,) = result
    assert isinstance(got, Snapshot | InputError), f"{type(got).__name__}: {got}"
    return got


@settings(max_examples=120, deadline=None)
@given(make=_KINDS, name=_NAMES, role=st.sampled_from(["metrics", "params", "plot"]))
def test_fuzz_file_kinds_give_a_snapshot_or_one_input_error(make: Make, name: str, role: str) -> None:
    with tempfile.TemporaryDirectory() as tmp, tempfile.TemporaryDirectory() as cache:
        root = Path(tmp)
        (root / ".git").mkdir()
        (root / ".git" / "config").write_text("[http]\n\textraheader = AUTHORIZATION: basic c2VjcmV0\n")
        (root / "vendor" / ".git").mkdir(parents=True)
        (root / "vendor" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (Path(cache) / "md5").mkdir()
        os.symlink(root / name, root / "m")  # makes the self-link case a loop
        make(root / name, root, cache)
        src = {
            "metrics": Sources(metrics=(name,)),
            "params": Sources(params=(name,)),
            "plot": Sources(plots=(PlotSpec(title="t", kind="line", series=((name, None, "acc"),)),)),
        }[role]
        got = _read_with_deadline(src, root, 10)
    if isinstance(got, InputError):
        message = str(got)
        assert message.startswith(f"{name}: ")
        assert "\n" not in message
        assert "c2VjcmV0" not in message
    else:
        assert "c2VjcmV0" not in repr(got)
