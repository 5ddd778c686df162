"""Lazy, seeded access to Keras on TensorFlow (TensorFlow loads only when a model is used)."""

from __future__ import annotations

from typing import Any

from driftloop.core.runtime import keras_defaults


def keras_module(seed: int | None = None) -> Any:
    """Import Keras with the TensorFlow backend; seed Python, NumPy and TensorFlow if asked."""
    keras_defaults()
    import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras
