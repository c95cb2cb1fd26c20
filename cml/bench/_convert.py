"""In the child process (:mod:`cml.bench._child`): load the model with TensorFlow, convert each variant,
and save the original model's outputs for accuracy. Never imported by the ``cml`` process itself.

The variants (RESEARCH.md, "TFLite"): ``fp32`` plain; ``dynamic`` = ``optimizations=[DEFAULT]``;
``fp16`` = that + ``supported_types=[float16]``; ``int8`` = full integer: a representative dataset,
``TFLITE_BUILTINS_INT8`` and int8 input and output.
"""

from __future__ import annotations

import re
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cml.bench import data
from cml.bench._child import Event, each
from cml.errors import ConfigError, InputError

#: The converter lists what it cannot build from builtins, e.g. "TF Select ops: MatrixInverse".
_NOT_BUILTIN = re.compile(r"^(TF Select ops|Custom ops): (.+)$", re.MULTILINE)
_BATCH = 256


@dataclass(frozen=True, kw_only=True)
class Source:
    """A loaded model: the SavedModel the converter reads, its input shape, and how to run it."""

    model: str  # the user's file, named in errors
    saved_model: str
    shape: tuple[int | None, ...] | None  # None: not one input, or unknown
    predict: Callable[[Any], Any]


def run(job: Event, out: TextIO) -> None:
    """Convert ``job["items"]`` (variants, then ``original``: save the model's outputs) of ``job["model"]``."""
    tf = tensorflow()
    model = Path(job["model"])
    with tempfile.TemporaryDirectory(prefix="cml-bench-") as tmp:
        source = load(tf, model, job["kind"], Path(tmp))
        calib = _calibration(job, source, model)
        reference = _reference(job, source, model)  # checked before anything is converted
        out_dir, log = Path(job["out_dir"]), job["log"]

        def work(item: str) -> Event:
            if item == "original":
                return _save_reference(reference, source, job["reference_out"])
            return _variant(tf, source, item, calib, out_dir / f"{item}.tflite", log)

        each(out, job["items"], work)


def tensorflow() -> Any:
    """TensorFlow, imported; ConfigError (exit 3) when it is not installed."""
    try:
        import tensorflow as tf
    except ImportError as exc:
        raise ConfigError(f"converting a model needs TensorFlow, which cannot be imported: {exc}") from None
    return tf


def load(tf: Any, model: Path, kind: str, tmp: Path | None) -> Source:
    """The model as a :class:`Source` (a Keras model exported once to ``tmp``, when given, for the
    converter); InputError naming it when TensorFlow cannot load it."""
    try:
        if kind == "savedmodel":
            return _saved_model(tf, model)
        keras = tf.keras.models.load_model(model, compile=False)  # safe_mode: a Lambda's code is not run
        if tmp is not None:
            keras.export(str(tmp / "saved"), verbose=False)  # once, not once per variant
    except Exception as exc:
        traceback.print_exc()
        raise InputError(f"{model}: TensorFlow {tf.__version__} cannot load it: {_first_line(exc)}") from None
    shape = tuple(keras.inputs[0].shape) if len(keras.inputs) == 1 else None
    return Source(
        model=str(model),
        saved_model=str(tmp / "saved") if tmp is not None else "",
        shape=shape,
        predict=lambda x: keras.predict(x, batch_size=_BATCH, verbose=0),
    )


def _saved_model(tf: Any, model: Path) -> Source:
    """A SavedModel folder; its ``serving_default`` signature gives the input shape and runs it."""
    loaded = tf.saved_model.load(str(model))
    signature = loaded.signatures.get("serving_default")
    specs = dict(signature.structured_input_signature[1]) if signature is not None else {}
    name, spec = next(iter(specs.items())) if len(specs) == 1 else ("", None)

    def predict(x: Any) -> Any:
        import numpy as np

        if spec is None:
            raise InputError(f"{model}: accuracy needs a serving_default signature with one input")
        outs = [signature(**{name: tf.constant(x[i : i + _BATCH])}) for i in range(0, len(x), _BATCH)]
        if len(outs[0]) != 1:
            raise InputError(f"{model}: accuracy needs a model with one output, it has {len(outs[0])}")
        return np.concatenate([next(iter(o.values())).numpy() for o in outs])

    shape = tuple(spec.shape.as_list()) if spec is not None and spec.shape.rank is not None else None
    return Source(model=str(model), saved_model=str(model), shape=shape, predict=predict)


def _calibration(job: Event, source: Source, model: Path) -> Any:
    """The int8 calibration samples (None when int8 is not asked for), checked against the input."""
    if "int8" not in job["items"]:
        return None
    found = data.calibration(_path(job["representative"]), _path(job["eval"]))
    if found is None:
        return None
    x, file = found
    if source.shape is None:
        raise InputError(f"{model}: int8 calibration needs a model with one input of known rank")
    data.check_shape(x, source.shape, file, str(model))
    return x


def _reference(job: Event, source: Source, model: Path) -> Any:
    """Accuracy's inputs when the original's outputs are to be saved (None otherwise), checked."""
    if "original" not in job["items"]:
        return None
    found = data.reference(_path(job["eval"]), _path(job["representative"]))
    if found is None:
        return None
    x, _, file = found
    if source.shape is not None:
        data.check_shape(x, source.shape, file, str(model))
    return x


def _save_reference(x: Any, source: Source, out: str) -> Event:
    """Run the original model on accuracy's inputs ``x`` and save its outputs to ``out``."""
    import numpy as np

    if x is None:
        return {"error": "no inputs to run the original model on"}
    np.save(out, np.asarray(source.predict(x)))
    return {"path": out}


def _variant(tf: Any, source: Source, variant: str, calib: Any, out: Path, log: str) -> Event:
    """Convert one variant to ``out``: its path, size and seconds, or its one-line error.

    Raises InputError (the whole model) when the model needs ops outside the builtin set.
    """
    if variant == "int8" and calib is None:
        return {"note": "skipped: no --representative or --eval data for int8 calibration"}
    start = time.perf_counter()
    converter = tf.lite.TFLiteConverter.from_saved_model(source.saved_model)
    _configure(tf, converter, variant, calib)
    try:
        flatbuffer = converter.convert()
    except Exception as exc:
        traceback.print_exc()
        _refuse_not_builtin(str(exc), source)
        return {"error": f"{_first_line(exc)} (see {log})"}
    out.write_bytes(flatbuffer)
    seconds = time.perf_counter() - start
    print(f"cml: converted {variant} in {seconds:.2f} s: {len(flatbuffer):,} bytes", flush=True)
    return {"path": str(out), "size": len(flatbuffer), "seconds": round(seconds, 3)}


def _configure(tf: Any, converter: Any, variant: str, calib: Any) -> None:
    """Set ``converter`` up for ``variant`` (the one home of the recipe)."""
    if variant == "fp32":
        return
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if variant == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    if variant == "int8":
        converter.representative_dataset = lambda: ([calib[i : i + 1]] for i in range(len(calib)))
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8


def _refuse_not_builtin(message: str, source: Source) -> None:
    """InputError naming each op the converter lists as a Select TF op or a custom op."""
    found = [(kind, op.strip()) for kind, ops in _NOT_BUILTIN.findall(message) for op in ops.split(",")]
    if not found:
        return
    select = sorted({op for kind, op in found if kind == "TF Select ops"})
    custom = sorted({op for kind, op in found if kind != "TF Select ops"})
    parts = [f"{', '.join(select)} (Select TF ops)"] if select else []
    parts += [f"{', '.join(custom)} (custom ops)"] if custom else []
    raise InputError(
        f"{source.model}: needs ops outside the TFLite builtin set: {'; '.join(parts)}; "
        "such a model needs Select TF ops (the Flex delegate), which stock runtimes "
        "(ai-edge-litert, benchmark_model) cannot run",
        hint="replace those ops with builtin ones: https://ai.google.dev/edge/litert/models/ops_compatibility",
    )


def _first_line(exc: BaseException) -> str:
    """The most telling line of a (converter) exception, without MLIR locations, at most 300 chars."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    errors = [line.split("error:", 1)[1].strip() for line in lines if "error:" in line]
    line = (errors or lines or [type(exc).__name__])[0]
    if line.startswith("loc(") and "): " in line:
        line = line.rsplit("): ", 1)[1]
    return line[:300]


def _path(value: str | None) -> Path | None:
    return Path(value) if value else None
