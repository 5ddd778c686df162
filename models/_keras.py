"""Lazy, seeded access to Keras on TensorFlow (TensorFlow loads only when a model is used)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from driftloop.core.runtime import keras_defaults


@contextmanager
def _without_matplotlib() -> Iterator[None]:
    """Keras's image-gallery helpers import matplotlib.pyplot when it is installed (about a
    tenth of Keras's import); no driftloop code uses them, so the import finds no matplotlib.

    They keep `plt = None` and raise their own "install matplotlib" error if called. Once
    Keras is in, matplotlib imports normally (the demo's plots); a process that imported either
    first is left as it is.
    """
    if "matplotlib" in sys.modules or "keras" in sys.modules:
        yield
        return
    sys.modules["matplotlib"] = None  # type: ignore[assignment]  # `import` raises ImportError
    try:
        yield
    finally:
        if sys.modules.get("matplotlib", 0) is None:
            del sys.modules["matplotlib"]


def keras_module(seed: int | None = None) -> Any:
    """Import Keras with the TensorFlow backend; seed Python, NumPy and TensorFlow if asked."""
    keras_defaults()
    with _without_matplotlib():
        import keras

    if seed is not None:
        keras.utils.set_random_seed(seed)
    return keras
