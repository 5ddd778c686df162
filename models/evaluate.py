"""Scoring a model on a labelled frame: accuracy for classifiers, RMSE for regressors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftloop.models.data import encode_target
from driftloop.models.serving import is_classifier, predict_outputs


def metric_name(meta: dict[str, Any]) -> str:
    """The primary metric of the model's task: "accuracy" or "rmse"."""
    return "accuracy" if is_classifier(meta) else "rmse"


def higher_is_better(meta: dict[str, Any]) -> bool:
    """True for accuracy, False for RMSE."""
    return is_classifier(meta)


def errors(model: Any, frame: pd.DataFrame, meta: dict[str, Any]) -> np.ndarray:
    """Per-row error: 1.0 for a wrong class (0.0 right), or the absolute regression error."""
    if len(frame) == 0:
        raise ValueError("cannot score a model on an empty frame")
    y = encode_target(frame[meta["target"]], meta, "evaluation data")
    out = predict_outputs(model, frame, meta)
    if is_classifier(meta):
        return (np.argmax(out, axis=1) != y).astype("float64")
    return np.abs(out[:, 0].astype("float64") - y)


def summary(errs: np.ndarray, metric: str) -> float:
    """The metric from per-row errors: accuracy from 0/1 errors, else RMSE."""
    return float(1.0 - errs.mean()) if metric == "accuracy" else float(np.sqrt(np.mean(errs**2)))


def score(model: Any, frame: pd.DataFrame, meta: dict[str, Any]) -> float:
    """The task's primary metric on a labelled frame (accuracy, or RMSE)."""
    return summary(errors(model, frame, meta), metric_name(meta))


def accuracy(model: Any, frame: pd.DataFrame, meta: dict[str, Any]) -> float:
    """Share of rows whose predicted class equals the label in meta["target"]."""
    if not is_classifier(meta):
        raise ValueError("accuracy is defined for classifiers only; use score() for regression")
    return score(model, frame, meta)
