"""Lazy, seeded access to Keras on TensorFlow (TensorFlow loads only when a model is used)."""

from __future__ import annotations

import os
from typing import Any


def keras_module(seed: int | None = None) -> Any:
    """Import Keras with the TensorFlow backend; seed Python, NumPy and TensorFlow if asked."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras
