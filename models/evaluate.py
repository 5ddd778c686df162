"""Scoring a model on a labelled frame."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models.data import encode_labels
from models.serving import predict_proba


def accuracy(model: Any, frame: pd.DataFrame, meta: dict[str, Any]) -> float:
    """Share of rows whose predicted class equals the label in meta["target"]."""
    if len(frame) == 0:
        raise ValueError("cannot score a model on an empty frame")
    y = encode_labels(frame[meta["target"]], meta["classes"], "evaluation data")
    predicted = np.argmax(predict_proba(model, frame, meta), axis=1)
    return float(np.mean(predicted == y))
