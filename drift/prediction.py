"""Prediction drift: has the distribution of the model's predicted probabilities moved?

A pure function of two arrays of predicted probabilities (reference vs batch), shape (n,)
for one score or (n, k) for k classes. Each class column gets the two-sample KS test of
``drift.ks`` (binary: the second column only, the first being its complement); the
p-value is the Bonferroni minimum over classes and the effect size the largest
Wasserstein distance between the probability distributions (in probability units).
"""

from __future__ import annotations

import dataclasses

import numpy as np
from numpy.typing import ArrayLike, NDArray

from driftloop.drift.errors import DriftError
from driftloop.drift.ks import ks_test
from driftloop.drift.profile import ReferenceProfile
from driftloop.drift.profile_rows import _cap_rows
from driftloop.drift.result import TestResult

__all__ = ["PREDICTION_FEATURE", "prediction_columns", "prediction_drift_test", "with_predictions"]

PREDICTION_FEATURE = "__prediction__"
"""Report name of the prediction drift test."""


def prediction_columns(proba: ArrayLike) -> NDArray[np.float64]:
    """Return the probability columns that carry information, as a 2-D float array.

    Examples
    --------
    >>> prediction_columns([[0.9, 0.1], [0.2, 0.8]]).tolist()
    [[0.1], [0.8]]
    """
    array = np.asarray(proba, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0:
        raise DriftError("predicted probabilities must be a non-empty (n,) or (n, k) array")
    return array[:, 1:] if array.shape[1] == 2 else array


def prediction_drift_test(reference_proba: ArrayLike, batch_proba: ArrayLike) -> TestResult:
    """KS test per class of predicted probabilities, Bonferroni-combined across classes.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = rng.beta(2, 5, 2000)
    >>> prediction_drift_test(ref, rng.beta(2, 5, 500)).p_value > 0.05
    True
    >>> prediction_drift_test(ref, rng.beta(3, 4, 500)).p_value < 1e-6
    True
    """
    ref, bat = prediction_columns(reference_proba), prediction_columns(batch_proba)
    if ref.shape[1] != bat.shape[1]:
        raise DriftError(
            f"reference has {ref.shape[1]} probability column(s), the batch {bat.shape[1]}"
        )
    results = [ks_test(np.sort(ref[:, j]), bat[:, j]) for j in range(ref.shape[1])]
    p_value = min(1.0, len(results) * min(r.p_value for r in results))
    return TestResult(
        "prediction-ks",
        max(r.statistic for r in results),
        p_value,
        int(ref.shape[0]),
        int(bat.shape[0]),
        {
            "per_class_statistic": [r.statistic for r in results],
            "per_class_p_value": [r.p_value for r in results],
            "effect_size": max(float(r.details["wasserstein"]) for r in results),
            **_prediction_counts(ref, bat),
        },
    )


def _prediction_counts(ref: NDArray[np.float64], bat: NDArray[np.float64]) -> dict[str, object]:
    """What the report plots: a score histogram (one column) or predicted-class counts."""
    if ref.shape[1] == 1:
        edges = np.round(np.linspace(0.1, 0.9, 9), 1)
        return {
            "histogram": {
                "edges": edges.tolist(),
                "reference_counts": np.bincount(
                    np.searchsorted(edges, ref[:, 0]), minlength=10
                ).tolist(),
                "batch_counts": np.bincount(
                    np.searchsorted(edges, bat[:, 0]), minlength=10
                ).tolist(),
            }
        }
    k = ref.shape[1]
    return {
        "categories": [f"class {j}" for j in range(k)],
        "reference_counts": np.bincount(ref.argmax(axis=1), minlength=k).tolist(),
        "batch_counts": np.bincount(bat.argmax(axis=1), minlength=k).tolist(),
    }


def with_predictions(
    profile: ReferenceProfile, predictions: ArrayLike, max_rows: int = 50_000, seed: int = 0
) -> ReferenceProfile:
    """Return ``profile`` with a model's predictions on its reference rows (at most max_rows).

    Examples
    --------
    >>> import pandas as pd
    >>> from drift.profile import build_profile
    >>> profile = build_profile(pd.DataFrame({"x": [1.0, 2.0, 3.0]}), ["x"], [])
    >>> proba = [[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]]
    >>> with_predictions(profile, proba, max_rows=2).prediction.shape
    (2, 2)
    """
    prediction_columns(predictions)  # same checks as the test will make
    rows = _cap_rows(predictions, max_rows, np.random.default_rng(seed))
    return dataclasses.replace(profile, prediction=rows)
