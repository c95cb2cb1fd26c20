"""What the stages share: the project directory, params.yaml, seeding, quiet TensorFlow."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
MODEL = ROOT / "model"
PLOTS = ROOT / "plots"


def params(section: str) -> dict[str, Any]:
    """The ``section`` of params.yaml (raises KeyError naming it when missing)."""
    data = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8")) or {}
    if section not in data:
        raise KeyError(f"params.yaml has no {section!r} section")
    return dict(data[section])


def quiet_tensorflow() -> None:
    """Silence TensorFlow's C++ logging; call before importing it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def seed_everything(seed: int) -> None:
    """Fix Python, NumPy and TensorFlow seeds and make TF ops deterministic."""
    import numpy as np
    import tensorflow as tf

    random.seed(seed)
    np.random.seed(seed)
    tf.keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def write_json(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON, creating the parent directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
