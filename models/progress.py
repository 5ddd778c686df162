"""A Keras callback that reports training epochs (i of n) to a progress sink."""

from __future__ import annotations

import math
from typing import Any

from driftloop.core.progress import Progress, current
from driftloop.models._keras import keras_module


def epoch_callback(label: str, total: int, sink: Progress | None = None) -> Any:
    """A callback telling `sink` (the process's by default) each epoch, and one line at the end.

    The passing state is "LABEL: epoch i/n, val_loss x"; the lasting line is
    "LABEL: n epochs (early stop at i/n), best val_loss x".
    """
    keras = keras_module()
    out = sink or current()

    class EpochProgress(keras.callbacks.Callback):  # type: ignore[name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.ran, self.best = 0, math.inf

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            loss = float((logs or {}).get("val_loss", math.nan))
            self.ran, self.best = epoch + 1, min(self.best, loss)
            out.update(f"{label}: epoch {epoch + 1}/{total}, val_loss {loss:.4f}")

        def on_train_end(self, logs: Any = None) -> None:
            stop = f" (early stop at {self.ran}/{total})" if self.ran < total else ""
            out.line(f"{label}: {self.ran} epochs{stop}, best val_loss {self.best:.4f}")

    return EpochProgress()
