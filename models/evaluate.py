"""Scoring a model on a labelled frame: accuracy for classifiers, RMSE for regressors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from driftloop import drift
from driftloop.models.calibration import estimate_of
from driftloop.models.data import encode_target
from driftloop.models.serving import is_classifier, predict_outputs


def metric_name(meta: dict[str, Any]) -> str:
    """The primary metric of the model's task: "accuracy" or "rmse"."""
    return "accuracy" if is_classifier(meta) else "rmse"


def higher_is_better(meta: dict[str, Any]) -> bool:
    """True for accuracy, False for RMSE."""
    return is_classifier(meta)


def errors_of(outputs: np.ndarray, frame: pd.DataFrame, meta: dict[str, Any]) -> np.ndarray:
    """Per-row error of outputs already computed on a labelled frame (see `errors`)."""
    y = encode_target(frame[meta["target"]], meta, "evaluation data")
    if is_classifier(meta):
        return (np.argmax(outputs, axis=1) != y).astype("float64")
    return np.abs(outputs[:, 0].astype("float64") - y)


def errors(model: Any, frame: pd.DataFrame, meta: dict[str, Any]) -> np.ndarray:
    """Per-row error: 1.0 for a wrong class (0.0 right), or the absolute regression error."""
    if len(frame) == 0:
        raise ValueError("cannot score a model on an empty frame")
    return errors_of(predict_outputs(model, frame, meta), frame, meta)


@dataclass(frozen=True)
class Predicted:
    """A model's outputs on a batch, computed once, its per-row errors if it is labelled, and
    its label-free accuracy estimate (a classifier with a stored calibration; else None)."""

    outputs: np.ndarray
    errors: np.ndarray | None
    metric: str
    estimate: drift.Estimate | None = None

    @property
    def score(self) -> float | None:
        """The metric on the batch (None without labels)."""
        return None if self.errors is None else summary(self.errors, self.metric)


def predicted(model: Any, frame: pd.DataFrame, meta: dict[str, Any], labelled: bool) -> Predicted:
    """Predict a batch once: the outputs, and the errors when `labelled`."""
    outputs = predict_outputs(model, frame, meta)
    errs = errors_of(outputs, frame, meta) if labelled and len(frame) else None
    return Predicted(outputs, errs, metric_name(meta), estimate_of(meta, outputs))


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
