""":class:`~cml.bench.Results` as versioned JSON, the metric names the gate checks, and the baseline.

The JSON (``results.json`` beside the report, and inside the comment's hidden data block) is
``{"format": "cml-bench", "version": 1, "model": ..., "commit": ..., "method": {...}, "targets": [...],
"variants": [...]}``. A file of a newer version, or one that does not hold that shape, is an InputError
naming the file and the field.

Metric names (``--fail-on``): ``<variant>.<stat>`` for one target and one thread count; latency stats
gain ``@<threads>`` on the variant with several thread counts (``int8@4.p50``) and a ``<target>/``
prefix with several targets (``adb://R58M/int8.p50``). Size and accuracy do not depend on the target:
they keep the plain name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any, TypeVar, cast

from cml.bench import (
    VARIANTS,
    Accuracy,
    Latency,
    Method,
    Results,
    TargetInfo,
    Variant,
    VariantResult,
)
from cml.errors import InputError

FORMAT = "cml-bench"
VERSION = 1

#: Latency stats as metric names, and the :class:`Latency` field each reads.
LATENCY_STATS = {"p50": "median", "p90": "p90", "p99": "p99", "min": "min", "std": "std", "cv": "cv"}
EXTRA_STATS = {"init": "init_ms", "first": "first_ms", "rss": "peak_rss_kb"}
#: Accuracy stats and the :class:`Accuracy` field each reads.
ACCURACY_STATS = {
    "accuracy": "accuracy",
    "drop": "drop",
    "agreement": "agreement",
    "max_diff": "max_abs_diff",
}
#: Stats where higher is better; every other stat (latency, size, drop, max_diff) is lower-is-better.
HIGHER = frozenset({"accuracy", "agreement"})

_T = TypeVar("_T")


def to_json(results: Results) -> dict[str, Any]:
    """``results`` as a JSON-ready dict (thread counts become string keys)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "model": results.model,
        "commit": results.commit,
        "method": {**asdict(results.method), "threads": list(results.method.threads)},
        "targets": [asdict(t) for t in results.targets],
        "variants": [_variant_json(v) for v in results.variants],
    }


def _variant_json(v: VariantResult) -> dict[str, Any]:
    return {
        "variant": v.variant,
        "size_bytes": v.size_bytes,
        "latency": {
            target: {str(n): asdict(lat) for n, lat in by_threads.items()}
            for target, by_threads in v.latency.items()
        },
        "accuracy": None if v.accuracy is None else asdict(v.accuracy),
        "error": v.error,
        "notes": list(v.notes),
    }


def dumps(results: Results) -> str:
    """The JSON text of ``results`` (indented, keys in a stable order)."""
    return json.dumps(to_json(results), indent=2) + "\n"


def save(results: Results, path: Path) -> Path:
    """Write ``results`` to ``path`` (folders created); return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(results), encoding="utf-8")
    return path


def load(path: Path, name: str | None = None) -> Results:
    """Read a results file (at most :data:`cml.files.DATA_CAP` bytes, a regular file).

    Raises InputError naming the file: missing, not JSON, another format, a newer version, a bad field.
    """
    from cml import files

    name = name or str(path)
    text = files.read_text(path, files.DATA_CAP, name)
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InputError(f"{name}: not JSON ({exc})") from None
    return from_json(data, name)


def from_json(data: Any, name: str) -> Results:
    """``data`` (parsed JSON) as Results; InputError naming ``name`` and the bad field."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f'{name}: not a cml bench results file (no "format": "{FORMAT}")')
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise InputError(f"{name}: field 'version': expected a positive integer, got {version!r}")
    if version > VERSION:
        raise InputError(
            f"{name}: results format version {version} is newer than this cml reads ({VERSION})",
            hint="upgrade cml",
        )
    return Results(
        model=_get(data, "model", str, name),
        commit=_get(data, "commit", str, name, ""),
        method=_method(_get(data, "method", dict, name, {}), f"{name}: method"),
        targets=tuple(
            _make(TargetInfo, t, f"{name}: targets[{i}]")
            for i, t in enumerate(_get(data, "targets", list, name, []))
        ),
        variants=tuple(
            _variant(v, f"{name}: variants[{i}]")
            for i, v in enumerate(_get(data, "variants", list, name, []))
        ),
    )


_MISSING: Any = object()


def _get(data: Mapping[str, Any], key: str, kind: type[_T], where: str, default: Any = _MISSING) -> _T:
    """``data[key]`` checked to be a ``kind``; InputError naming ``where`` and ``key``."""
    if key not in data:
        if default is _MISSING:
            raise InputError(f"{where}: field {key!r} is missing")
        return cast(_T, default)
    value = data[key]
    if not _is(value, kind):
        raise InputError(f"{where}: field {key!r}: expected {kind.__name__}, got {type(value).__name__}")
    return cast(_T, value)


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


_KINDS: dict[str, type] = {"str": str, "int": int, "float": float, "bool": bool}


def _make(cls: Callable[..., _T], data: Any, where: str) -> _T:
    """A frozen dataclass from ``data``, each field type-checked (``X | None`` allows null; unknown keys
    are ignored so a later minor addition still reads)."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected an object, got {type(data).__name__}")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        if f.name not in data:
            continue
        value, kind = data[f.name], str(f.type)
        if value is None and kind.endswith("| None"):
            kwargs[f.name] = None
            continue
        base = _KINDS.get(kind.removesuffix(" | None"))
        if base is None or not _is(value, base):
            raise InputError(f"{where}: field {f.name!r}: expected {kind}, got {type(value).__name__}")
        kwargs[f.name] = float(value) if base is float else value
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required field is missing
        missing = str(exc).rsplit(":", 1)[-1].strip()
        raise InputError(f"{where}: missing field {missing}") from None


def _method(data: dict[str, Any], where: str) -> Method:
    threads = data.get("threads", [1])
    if not isinstance(threads, list) or not threads or not all(_is(n, int) and n > 0 for n in threads):
        raise InputError(f"{where}: field 'threads': expected a list of positive integers")
    rest = _make(Method, {k: v for k, v in data.items() if k != "threads"}, where)
    return replace(rest, threads=tuple(threads))


def _variant(data: Any, where: str) -> VariantResult:
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected an object, got {type(data).__name__}")
    variant = data.get("variant")
    if variant not in VARIANTS:
        raise InputError(f"{where}: field 'variant': expected one of {', '.join(VARIANTS)}, got {variant!r}")
    notes = _get(data, "notes", list, where, [])
    if not all(isinstance(n, str) for n in notes):
        raise InputError(f"{where}: field 'notes': expected a list of strings")
    acc = data.get("accuracy")
    return VariantResult(
        variant=cast(Variant, variant),
        size_bytes=_get(data, "size_bytes", int, where, 0),
        latency=_latency(_get(data, "latency", dict, where, {}), f"{where}: latency"),
        accuracy=None if acc is None else _make(Accuracy, acc, f"{where}: accuracy"),
        error=_get(data, "error", str, where, ""),
        notes=tuple(notes),
    )


def _latency(data: dict[str, Any], where: str) -> dict[str, dict[int, Latency]]:
    out: dict[str, dict[int, Latency]] = {}
    for target, by_threads in data.items():
        if not isinstance(by_threads, dict):
            raise InputError(f"{where}: {target!r}: expected an object of thread counts")
        out[target] = {}
        for n, lat in by_threads.items():
            if not (isinstance(n, str) and n.isdigit() and int(n) > 0):
                raise InputError(f"{where}: {target!r}: {n!r} is not a thread count")
            out[target][int(n)] = _make(Latency, lat, f"{where}: {target!r}: {n}")
    return out


def _prefix(results: Results) -> Callable[[str, Variant, int], str]:
    """How a latency metric's name starts: ``[<target>/]<variant>[@<threads>]``."""
    many_targets = (
        len({t.name for t in results.targets} | {n for v in results.variants for n in v.latency}) > 1
    )
    many_threads = (
        len(
            set(results.method.threads) | {n for v in results.variants for d in v.latency.values() for n in d}
        )
        > 1
    )

    def prefix(target: str, variant: Variant, threads: int) -> str:
        return f"{target + '/' if many_targets else ''}{variant}{f'@{threads}' if many_threads else ''}"

    return prefix


def metrics(results: Results) -> dict[str, float]:
    """Every number the gate can check, by metric name (see the module docstring).

    ``mean_only`` latencies (adb's ``benchmark_model``) give ``p50`` (their mean), ``init`` and ``first``.
    """
    out: dict[str, float] = {}
    prefix = _prefix(results)
    for v in results.variants:
        if v.size_bytes:
            out[f"{v.variant}.size"] = float(v.size_bytes)
        for target, by_threads in v.latency.items():
            for threads, lat in sorted(by_threads.items()):
                name = prefix(target, v.variant, threads)
                for stat, attr in LATENCY_STATS.items():
                    if not lat.mean_only or stat == "p50":
                        out[f"{name}.{stat}"] = float(getattr(lat, attr))
                for stat, attr in EXTRA_STATS.items():
                    if (value := getattr(lat, attr)) is not None:
                        out[f"{name}.{stat}"] = float(value)
        for stat, attr in ACCURACY_STATS.items():
            if v.accuracy is not None and (value := getattr(v.accuracy, attr)) is not None:
                out[f"{v.variant}.{stat}"] = float(value)
    return out


def directions(names: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """``(lower, higher)``: which metric names are better lower (latency, size, drop) or higher."""
    names = list(names)
    higher = frozenset(n for n in names if n.rsplit(".", 1)[-1] in HIGHER)
    return frozenset(names) - higher, higher


def from_block(bench: Mapping[str, Any] | None, sha: str) -> Results | None:
    """The results a stored data block on ``sha`` holds; None (with a warning) when it holds none that
    this cml reads: a stored block is not the user's file, so it never fails the run."""
    if bench is None:
        return None
    try:
        return from_json(bench, f"stored benchmark on {sha[:7]}")
    except InputError as exc:
        from cml.log import logger

        logger.warning("ignoring the benchmark stored on %s: %s", sha[:7], exc)
        return None
