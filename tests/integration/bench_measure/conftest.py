"""Fixtures of the bench_measure integration tests: tiny real ``.tflite`` models, converted once."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

from tests.integration.bench_measure import build_models

# the runner tests' real sshd lab
from tests.integration.runner.conftest import ssh_lab, sysbin

__all__ = ["ssh_lab", "sysbin"]


def _tf_version() -> str:
    for name in ("tensorflow-cpu", "tensorflow"):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return ""


@pytest.fixture(scope="session")
def tiny_models() -> dict[str, Path]:
    """``fp32``, ``dynamic`` and ``int8`` ``.tflite`` files of a 2-layer Keras model, and ``inputs`` (a
    .npy of 32 rows of 8 floats). Converted by TensorFlow in a child process once, then kept in the temp
    folder under a key of the builder's source and the TF version (conversion costs ~10 s)."""
    version = _tf_version()
    if not version:
        pytest.skip("TensorFlow is not installed (the bench extra)")
    source = Path(build_models.__file__).read_bytes()
    key = hashlib.sha256(source + version.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / "cml-test-tflite" / key
    names = ("fp32", "dynamic", "int8")
    if not all((folder / f"{n}.tflite").is_file() for n in names) or not (folder / "inputs.npy").is_file():
        partial = folder.with_name(f"{key}.{os.getpid()}")
        subprocess.run(
            [sys.executable, "-m", "tests.integration.bench_measure.build_models", str(partial)],
            check=True,
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)  # an incomplete earlier attempt
        partial.replace(folder)
    models = {n: folder / f"{n}.tflite" for n in names}
    return {**models, "inputs": folder / "inputs.npy"}
