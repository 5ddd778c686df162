"""Wasserstein-1 distance in reference standard deviations, as a test and as an effect size.

The statistic is ``scipy.stats.wasserstein_distance(reference, batch) / std(reference)``
(bit for bit: ``drift.ecdf`` for large samples). As a test its p-value is calibrated by
``drift.calibrate.bootstrap_p_value``: pairs of bootstrap chunks (<= 2,000 values each) of
the reference, compared after the ``sqrt(n m / (n + m))`` scaling under which the
distance converges in distribution. The approximation is in the tail of the null
distribution at sizes far above the chunk size; the statistic itself is exact.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from driftloop.drift.calibrate import bootstrap_p_value
from driftloop.drift.ecdf import merge, wasserstein_distance
from driftloop.drift.ks import SCIPY_EXACT_MAX_N, normalised
from driftloop.drift.result import TestResult

__all__ = ["wasserstein_effect", "wasserstein_test"]


def _distance(reference_sorted: NDArray[np.float64], batch: NDArray[np.float64]) -> float:
    """scipy's Wasserstein distance, via one merge when the samples are large."""
    if max(reference_sorted.size, batch.size) <= SCIPY_EXACT_MAX_N:
        return float(stats.wasserstein_distance(reference_sorted, batch))
    return wasserstein_distance(merge(reference_sorted, batch))


def wasserstein_effect(reference_sorted: NDArray[np.float64], batch: NDArray[np.float64]) -> float:
    """Wasserstein distance of finite batch values over the reference standard deviation.

    Examples
    --------
    >>> wasserstein_effect(np.array([0.0, 2.0]), np.array([1.0, 3.0]))
    1.0
    """
    return normalised(_distance(reference_sorted, batch), float(np.std(reference_sorted)))


def wasserstein_test(
    reference_sorted: NDArray[np.float64],
    batch: NDArray[np.float64],
    draws: int = 500,
    seed: int = 0,
) -> TestResult:
    """Normalised Wasserstein distance with a bootstrap-calibrated p-value.

    Examples
    --------
    >>> ref = np.sort(np.random.default_rng(0).normal(size=3000))
    >>> result = wasserstein_test(ref, ref[::3] + 0.5)
    >>> round(result.statistic, 3), result.p_value
    (0.501, 0.001996007984031936)
    """
    std = float(np.std(reference_sorted))
    value = normalised(_distance(reference_sorted, batch), std)

    def statistic(first: NDArray[np.float64], second: NDArray[np.float64]) -> float:
        """Null statistic of one chunk pair."""
        return normalised(float(stats.wasserstein_distance(first, second)), std)

    p_value = bootstrap_p_value(statistic, reference_sorted, int(batch.size), value, draws, seed)
    details = {"effect_size": value, "reference_std": std}
    return TestResult(
        "wasserstein", value, p_value, int(reference_sorted.size), int(batch.size), details
    )
