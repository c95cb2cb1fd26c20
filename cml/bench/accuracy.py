"""How good each variant is: accuracy against ``--eval`` labels and its drop from the original model,
or (without labels) top-1 agreement and the largest output difference against the original on the
representative data.

The models run in a child process (:mod:`cml.bench._child`): ``.tflite`` files with ai-edge-litert,
an original Keras or SavedModel model with TensorFlow (unless :func:`cml.bench.convert.convert` already
saved its outputs). A ``.tflite`` input has no original: its accuracy is against the labels only.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cml.bench import VARIANTS, Accuracy, Variant, data
from cml.bench._child import require, run_items
from cml.errors import InputError
from cml.log import logger


def evaluate(
    models: Mapping[Variant, Path],
    original: Path | None,
    *,
    eval_data: Path | None,
    representative: Path | None,
    log: Path | None = None,
) -> dict[Variant, Accuracy]:
    """The :class:`Accuracy` of each model in ``models`` that ran; empty when there is nothing to
    compare with (no data, or no labels and no original).

    ``original`` is the original model (``.keras``, ``.h5``, SavedModel, ``.tflite``), or the
    ``.npy`` of its outputs that ``convert`` saved, or None. Raises InputError (exit 2) for bad data
    or models, ConfigError (exit 3) when ai-edge-litert (or TensorFlow, for the original) is missing.
    A variant whose run crashed has no entry (logged). TF and runtime noise goes to ``log``.
    """
    found = data.reference(eval_data, representative)
    if found is None or (found[1] is None and original is None):
        return {}
    x, labels, _ = found
    require("ai_edge_litert", "measuring accuracy")
    if log is None:  # a fresh file of our own, never a fixed name in a shared folder (a planted link)
        fd, name = tempfile.mkstemp(prefix="cml-bench-accuracy-", suffix=".log")
        os.close(fd)
        log = Path(name)
    variants = [v for v in VARIANTS if v in models]
    items: list[str] = list(variants)
    job: dict[str, Any] = {
        "job": "predict",
        "models": {v: str(models[v]) for v in variants},
        "eval": str(eval_data) if eval_data else None,
        "representative": str(representative) if representative else None,
    }
    reference = _saved_outputs(original, len(x)) if original is not None else None
    if original is not None and reference is None:
        from cml.bench.convert import model_kind

        job["original_kind"] = model_kind(original)
        job["models"]["original"] = str(original)
        items.insert(0, "original")
    outputs = _outputs(job, items, log)
    if reference is None:
        reference = outputs.pop("original", None)
    return {v: _accuracy(outputs[v], labels, reference) for v in variants if v in outputs}


def _saved_outputs(original: Path, samples: int) -> Any:
    """The original's outputs when ``original`` is the ``.npy`` ``convert`` saved; else None."""
    if original.suffix != ".npy" or not original.is_file():
        return None
    outputs = data.load_representative(original)
    if len(outputs) != samples:
        raise InputError(f"{original}: holds outputs for {len(outputs)} samples, but the data has {samples}")
    return outputs


def _outputs(job: dict[str, Any], items: list[str], log: Path) -> dict[str, Any]:
    """Each item's outputs on the reference inputs, from one child run (more after a crash)."""
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="cml-bench-") as tmp:
        outcome = run_items({**job, "out_dir": tmp}, items, log, "measuring accuracy")
        for item, why in outcome.crashed.items():
            logger.warning("cml bench: no accuracy for %s: %s", item, why)
        return {
            item: np.load(event["path"], allow_pickle=False)
            for item, event in outcome.done.items()
            if event.get("path")
        }


def _accuracy(out: Any, labels: Any, reference: Any) -> Accuracy:
    """One variant's :class:`Accuracy` from its outputs, the labels and the original's outputs."""
    import numpy as np

    mine = top1(out)
    accuracy = float(np.mean(mine == labels)) if labels is not None else None
    if reference is None:
        return Accuracy(accuracy=accuracy)
    theirs = top1(reference)
    drop = float(np.mean(theirs == labels)) - accuracy if accuracy is not None else None
    same_shape = np.shape(out) == np.shape(reference)
    return Accuracy(
        accuracy=accuracy,
        drop=drop,
        agreement=float(np.mean(mine == theirs)),
        max_abs_diff=float(np.max(np.abs(out - reference))) if same_shape else None,
    )


def top1(outputs: Any) -> Any:
    """The predicted class of each sample: the argmax over its outputs, or ``> 0.5`` for one output."""
    flat = outputs.reshape(len(outputs), -1)
    return (flat[:, 0] > 0.5).astype("int64") if flat.shape[1] == 1 else flat.argmax(axis=1)
