"""Convert a Keras model (``.keras``, ``.h5``) or a SavedModel folder to TFLite variants.

TensorFlow runs in a child process (:mod:`cml.bench._child`): its log noise goes to the log file, the
results come back as JSON, and a crash costs one variant, not the run. A ``.tflite`` input is not
converted: it is checked (the ``TFL3`` flatbuffer identifier, then ai-edge-litert loads it) and comes
back as the one ``fp32`` variant.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from cml.bench import ORIGINAL_OUTPUTS, VARIANTS, Converted, Variant, data
from cml.bench._child import Outcome, require, run_items
from cml.errors import InputError
from cml.files import open_regular
from cml.log import logger

ModelKind = Literal["keras", "h5", "savedmodel", "tflite"]
#: A model file is read by TensorFlow, not by cml; this bounds what cml accepts at all. A flatbuffer
#: (a .tflite file) cannot exceed 2 GiB, and a model that large is no mobile model.
MODEL_CAP = 2 * 1024**3
_MAGIC: dict[ModelKind, tuple[bytes, int]] = {
    "tflite": (b"TFL3", 4),  # the flatbuffer file identifier, at bytes 4..8
    "keras": (b"PK\x03\x04", 0),  # a .keras file is a zip archive
    "h5": (b"\x89HDF\r\n\x1a\n", 0),
}
_SUFFIXES: dict[str, ModelKind] = {".tflite": "tflite", ".keras": "keras", ".h5": "h5", ".hdf5": "h5"}
_NO_CALIBRATION = "skipped: no --representative or --eval data for int8 calibration"


def convert(
    model: Path,
    variants: Sequence[Variant],
    out_dir: Path,
    *,
    representative: Path | None,
    eval_data: Path | None,
    log: Path,
) -> list[Converted]:
    """One :class:`Converted` per asked variant (in fp32, dynamic, fp16, int8 order) in ``out_dir``.

    int8 calibrates on ``representative`` (.npy), else on samples drawn from ``eval_data``'s x; with
    neither it is skipped with a note. When either is given, the original model's outputs on
    accuracy's inputs are saved as ``out_dir/ORIGINAL_OUTPUTS`` (pass that file to
    :func:`cml.bench.accuracy.evaluate` as ``original``); one left by an earlier run is removed
    first. Raises InputError (exit 2) for a bad model or data file and for a model that needs ops
    outside the builtin set (naming each op), ConfigError (exit 3) when TensorFlow or ai-edge-litert
    is missing; a variant-only failure is that variant's ``error``.
    """
    kind = model_kind(model)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / ORIGINAL_OUTPUTS).unlink(missing_ok=True)
    if kind == "tflite":
        return [given_tflite(model, out_dir, log)]
    require("tensorflow", f"converting {model}")
    wanted = [v for v in VARIANTS if v in variants]
    calibrated = _check_data(representative, eval_data)
    items: list[str] = [v for v in wanted if v != "int8" or calibrated]
    if calibrated:
        items.append("original")
    job = {
        "job": "convert",
        "model": str(model),
        "kind": kind,
        "out_dir": str(out_dir),
        "representative": str(representative) if representative else None,
        "eval": str(eval_data) if eval_data else None,
        "reference_out": str(out_dir / ORIGINAL_OUTPUTS),
    }
    outcome = run_items(job, items, log, f"{model}: converting it")
    return [_converted(v, outcome, log) if v in items else _skipped(v) for v in wanted]


def model_kind(model: Path) -> ModelKind:
    """What ``model`` is, from its content (and suffix); InputError naming it when it is none of them."""
    if model.is_dir():
        if (model / "saved_model.pb").is_file() or (model / "saved_model.pbtxt").is_file():
            return "savedmodel"
        raise InputError(f"{model}: a folder without saved_model.pb, so not a SavedModel")
    if not model.exists():
        raise InputError(f"{model}: no such file or folder")
    head = _head(model)
    by_content = next((k for k, (magic, at) in _MAGIC.items() if head[at : at + len(magic)] == magic), None)
    by_suffix = _SUFFIXES.get(model.suffix.lower())
    if by_suffix == "tflite" and by_content != "tflite":
        raise InputError(
            f"{model}: not a TFLite flatbuffer (no TFL3 identifier at bytes 4-8): corrupt or truncated?"
        )
    if by_content is None:
        raise InputError(
            f"{model}: not a model",
            hint="give a .keras or .h5 file, a SavedModel folder or a .tflite file",
        )
    if by_content not in {"tflite", by_suffix}:
        want = ".keras" if by_content == "keras" else ".h5"
        raise InputError(
            f"{model}: holds a {by_content} model but is not named *{want}; Keras loads it by name"
        )
    return by_content


def given_tflite(model: Path, out_dir: Path, log: Path) -> Converted:
    """The ``.tflite`` the user gave, as the ``fp32`` variant, once ai-edge-litert has loaded it."""
    require("ai_edge_litert", f"checking {model}")
    job = {"job": "predict", "models": {"given": str(model)}, "out_dir": str(out_dir)}
    outcome = run_items(job, ["given"], log, f"{model}: loading it")
    if "given" in outcome.crashed:
        raise InputError(f"{model}: ai-edge-litert {outcome.crashed['given']}")
    size = model.stat().st_size
    return Converted(variant="fp32", path=model, size_bytes=size, note="given .tflite: not converted")


def _head(model: Path) -> bytes:
    """The first 8 bytes of the regular file ``model``; InputError over :data:`MODEL_CAP`."""
    import os

    fd = open_regular(model, str(model))
    try:
        size = os.fstat(fd).st_size
        if size > MODEL_CAP:
            raise InputError(f"{model}: {size:,} bytes, over cml's limit of 2 GiB for a model file")
        return os.read(fd, 8)
    finally:
        os.close(fd)


def _check_data(representative: Path | None, eval_data: Path | None) -> bool:
    """Read the data files once here (fast errors, before TensorFlow starts); True when any is given."""
    if eval_data is not None:
        data.load_eval(eval_data)
    if representative is not None:
        data.load_representative(representative)
    return representative is not None or eval_data is not None


def _skipped(variant: Variant) -> Converted:
    """int8 without calibration data."""
    return Converted(variant=variant, path=None, note=_NO_CALIBRATION)


def _converted(variant: Variant, outcome: Outcome, log: Path) -> Converted:
    """The :class:`Converted` the child's answer (or its crash) for ``variant`` makes."""
    if variant in outcome.crashed:
        return Converted(variant=variant, path=None, error=f"converter: {outcome.crashed[variant]}")
    event = outcome.done.get(variant)
    if event is None:
        return Converted(variant=variant, path=None, error=f"not converted; see {log}")
    if event.get("error") or event.get("note"):
        return Converted(variant=variant, path=None, error=event.get("error", ""), note=event.get("note", ""))
    logger.debug("cml bench: converted %s in %s s", variant, event.get("seconds"))
    return Converted(variant=variant, path=Path(event["path"]), size_bytes=int(event["size"]))
