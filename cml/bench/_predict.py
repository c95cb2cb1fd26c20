"""In the child process (:mod:`cml.bench._child`): run each model on accuracy's inputs and save its
outputs, ``.tflite`` files with ai-edge-litert (int8 input and output quantised with the tensors' own
scale and zero point), the original Keras or SavedModel model with TensorFlow. With no inputs it only
loads each model: the check that a ``.tflite`` file is one ai-edge-litert can run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TextIO

from cml.bench import data
from cml.bench._child import Event, each
from cml.errors import ConfigError, InputError

#: A model with a free batch size runs on batches of at most this many input values (1 MB of float32):
#: 256 small samples (digits) at once, but one image at a time; a batch of 64 224x224 images would
#: take several times the CPU (activations far past the caches) and hundreds of MB.
_BATCH_VALUES = 256 * 1024
_MAX_BATCH = 256


def run(job: Event, out: TextIO) -> None:
    """Save ``job["models"][item]``'s outputs on the reference inputs as ``out_dir/ITEM.npy``."""
    import numpy as np

    def path(key: str) -> Path | None:
        return Path(job[key]) if job.get(key) else None

    found = data.reference(path("eval"), path("representative"))

    def work(item: str) -> Event:
        model = Path(job["models"][item])
        if item == "original" and job["original_kind"] != "tflite":
            outputs = _original(model, job["original_kind"], found)
        else:
            outputs = _tflite(model, found)
        if outputs is None:
            return {}
        saved = Path(job["out_dir"]) / f"{item}.npy"
        np.save(saved, outputs)
        return {"path": str(saved)}

    each(out, job["items"], work)


def _original(model: Path, kind: str, found: Any) -> Any:
    """The original model's outputs on the reference inputs, with TensorFlow."""
    from cml.bench._convert import load, tensorflow

    if found is None:
        return None
    x, _, file = found
    source = load(tensorflow(), model, kind, None)
    if source.shape is not None:
        data.check_shape(x, source.shape, file, str(model))
    return source.predict(x)


def _tflite(model: Path, found: Any) -> Any:
    """``model``'s outputs (dequantised, float32) on the reference inputs; None when there are none.

    Raises InputError when ai-edge-litert cannot load ``model``, it has more than one input or
    output, or the inputs' samples do not fit its input.
    """
    import numpy as np

    interpreter = _interpreter(model)
    inputs, outputs = interpreter.get_input_details(), interpreter.get_output_details()
    if found is None:
        return None
    if len(inputs) != 1 or len(outputs) != 1:
        raise InputError(
            f"{model}: accuracy needs a model with one input and one output; "
            f"it has {len(inputs)} and {len(outputs)}"
        )
    x, _, file = found
    given, wanted = inputs[0], outputs[0]
    data.check_shape(x, list(given["shape_signature"]), file, str(model))
    dynamic = int(given["shape_signature"][0]) == -1
    chunk = batch_size(x.shape) if dynamic else int(given["shape"][0])
    if not dynamic:
        interpreter.allocate_tensors()
    results, size = [], -1
    for start in range(0, len(x), chunk):
        part = x[start : start + chunk]
        real = len(part)
        if dynamic and real != size:
            interpreter.resize_tensor_input(given["index"], [real, *x.shape[1:]])
            interpreter.allocate_tensors()
            size = real
        if not dynamic and real < chunk:
            part = np.concatenate([part, np.zeros((chunk - real, *x.shape[1:]), x.dtype)])
        interpreter.set_tensor(given["index"], quantise(part, given))
        interpreter.invoke()
        results.append(dequantise(interpreter.get_tensor(wanted["index"]), wanted)[:real])
    return np.concatenate(results)


def batch_size(shape: tuple[int, ...]) -> int:
    """How many samples of an input array of ``shape`` go in one ``invoke()`` of a free-batch model:
    as many as fit in :data:`_BATCH_VALUES` values, 1 to :data:`_MAX_BATCH`."""
    values = 1
    for size in shape[1:]:
        values *= max(int(size), 1)
    return max(1, min(_MAX_BATCH, _BATCH_VALUES // values))


def _interpreter(model: Path) -> Any:
    """An ai-edge-litert Interpreter on ``model``; InputError naming it when it cannot be loaded."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as exc:
        raise ConfigError(
            f"running a .tflite model needs ai-edge-litert, which cannot be imported: {exc}"
        ) from None
    try:
        return Interpreter(model_path=str(model), num_threads=os.cpu_count() or 1)
    except (ValueError, RuntimeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{model}: not a TFLite model ai-edge-litert can load: {first}") from None


def quantise(x: Any, detail: dict[str, Any]) -> Any:
    """``x`` in the input tensor's type: for an integer tensor, ``round(x / scale + zero_point)``
    clipped to the type's range; else a plain cast."""
    import numpy as np

    dtype = np.dtype(detail["dtype"])
    scale, zero = detail["quantization"]
    if np.issubdtype(dtype, np.integer) and scale:
        info = np.iinfo(dtype)
        return np.clip(np.round(x / scale + zero), info.min, info.max).astype(dtype)
    return x.astype(dtype)


def dequantise(y: Any, detail: dict[str, Any]) -> Any:
    """An output tensor as float32: ``(y - zero_point) * scale`` for a quantised integer one."""
    import numpy as np

    scale, zero = detail["quantization"]
    if np.issubdtype(y.dtype, np.integer) and scale:
        return (y.astype(np.float32) - zero) * np.float32(scale)
    return y.astype(np.float32)
