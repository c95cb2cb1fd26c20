"""Read every source of a report at one revision into a :class:`Snapshot`; the hidden data block.

A snapshot is read from the work tree (head) or through a ``read(path) -> text | None`` function
(``git show`` at the baseline). Every report embeds its flattened metrics and params in a hidden
HTML comment, so a later run can use it as the baseline when metrics are build outputs and never
committed.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cml.errors import InputError
from cml.report.readers import Metric, Record, Scalar, metric_value, read_metrics, read_params, read_records
from cml.report.sources import Sources

Read = Callable[[str], "str | None"]


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """Metrics (``name``, or ``file:name`` with several files), params, and plot records by file."""

    metrics: Mapping[str, Metric] = field(default_factory=dict)
    params: dict[str, Scalar] = field(default_factory=dict)
    records: dict[str, list[Record]] = field(default_factory=dict)
    origin: str = ""  # "work tree", "git abc1234", "stored report on abc1234"
    bench: dict[str, Any] | None = None  # a `cml bench` block: its results JSON (cml.bench.results)


def _keyed(files: tuple[str, ...], path: str, values: Mapping[str, Any]) -> dict[str, Any]:
    return dict(values) if len(files) == 1 else {f"{path}:{k}": v for k, v in values.items()}


def read_snapshot(sources: Sources, read: Read, origin: str) -> Snapshot:
    """Every file of ``sources`` through ``read``; a file ``read`` returns None for is skipped."""
    metrics: dict[str, Metric] = {}
    params: dict[str, Scalar] = {}
    records: dict[str, list[Record]] = {}
    for path in sources.metrics:
        text = _fetch(read, path, origin)
        if text is not None:
            metrics.update(_keyed(sources.metrics, path, read_metrics(text, _name(path, origin))))
    for path in sources.params:
        text = _fetch(read, path, origin)
        if text is not None:
            found = _only(read_params(text, _name(path, origin)), dict(sources.param_keys).get(path))
            params.update(_keyed(sources.params, path, found))
    plot_files = {s[0] for p in sources.plots for s in p.series} | {c.path for c in sources.confusions}
    for path in sorted(plot_files):
        text = _fetch(read, path, origin)
        if text is not None:
            records[path] = read_records(text, _name(path, origin))
    return Snapshot(metrics=metrics, params=params, records=records, origin=origin)


def _only(params: dict[str, Scalar], keys: tuple[str, ...] | None) -> dict[str, Scalar]:
    """``params`` limited to ``keys`` and what lies under them (``train`` keeps ``train.lr``)."""
    if keys is None:
        return params
    return {k: v for k, v in params.items() if any(k == w or k.startswith(f"{w}.") for w in keys)}


def _fetch(read: Read, path: str, origin: str) -> str | None:
    """``read(path)`` as text within :data:`cml.files.DATA_CAP` (``git show`` output is not read
    through cml.files); InputError naming the file when it is over the cap or not UTF-8."""
    from cml.files import DATA_CAP, check_size

    try:
        text = read(path)
    except UnicodeDecodeError as exc:
        raise InputError(f"{_name(path, origin)}: not UTF-8 text (byte {exc.start})") from None
    return None if text is None else check_size(text, DATA_CAP, _name(path, origin))


def _name(path: str, origin: str) -> str:
    return path if origin == "work tree" else f"{origin.removeprefix('git ')}:{path}"


def work_tree(root: Path) -> Read:
    """Read files under ``root``: regular files of at most :data:`cml.files.DATA_CAP` bytes, through
    symlinks that may leave the tree (DVC's cache) but not lead into a git directory; a missing one is
    an InputError (head files must exist)."""
    from cml import files

    where = files.tree(root)

    def read(path: str) -> str:
        try:
            return files.read_data(root / path, path, where)
        except files.Missing:
            raise InputError(f"{path}: no such file (looked in {root})") from None

    return read


_BLOCK = re.compile(r"<!-- cml:data v1 (?P<data>[A-Za-z0-9+/=]+) -->")
#: What a data block holds: a ``cml report`` snapshot, or ``cml bench`` results (``"kind": "bench"``,
#: their JSON under ``"bench"``, their gate metrics under ``"metrics"``). Blocks without a kind are reports.
BlockKind = Literal["report", "bench"]


def encode_block(snapshot: Snapshot, sha: str) -> str:
    """The hidden line holding ``snapshot``'s metrics and params (zlib + base64 JSON), and its bench
    results when it has them (a ``bench`` block)."""
    payload: dict[str, Any] = {"sha": sha, "metrics": snapshot.metrics, "params": snapshot.params}
    if snapshot.bench is not None:
        payload |= {"kind": "bench", "bench": snapshot.bench}
    raw = zlib.compress(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode(), 9)
    return f"<!-- cml:data v1 {base64.b64encode(raw).decode()} -->"


def decode_block(text: str, kind: BlockKind = "report") -> tuple[str, Snapshot] | None:
    """The last well-formed data block of ``kind`` in ``text`` as ``(sha, snapshot)``, or None."""
    for match in reversed(list(_BLOCK.finditer(text))):
        try:
            data = json.loads(zlib.decompress(base64.b64decode(match["data"], validate=True)))
            metrics = {str(k): metric_value(v) for k, v in dict(data["metrics"]).items()}
            params = dict(data["params"])
            sha = str(data["sha"])
            found = data.get("kind", "report")
            bench = dict(data["bench"]) if found == "bench" else None
        except (binascii.Error, zlib.error, ValueError, KeyError, TypeError, AttributeError):
            continue
        if found != kind:
            continue
        what = "benchmark" if kind == "bench" else "report"
        snapshot = Snapshot(metrics=metrics, params=params, bench=bench, origin=f"stored {what} on {sha[:7]}")
        return sha, snapshot
    return None
