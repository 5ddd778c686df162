"""Two-sample Kolmogorov-Smirnov test of a numeric batch against its reference sample."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from drift.coerce import as_float_array
from drift.errors import BatchError, ProfileError
from drift.result import TestResult

__all__ = ["ks_test"]


def ks_test(reference_sorted: NDArray[np.float64], batch: ArrayLike) -> TestResult:
    """Run ``scipy.stats.ks_2samp`` (two-sided, default method) on reference vs finite batch.

    Non-finite batch values are dropped before testing; ``details["dropped_non_finite"]``
    says how many. The statistic and p-value are scipy's, unchanged.

    Examples
    --------
    >>> reference = np.arange(100.0)
    >>> same = ks_test(reference, [3.0, 41.0, float("nan"), 77.0])
    >>> same.p_value > 0.5, same.n_batch, same.details["dropped_non_finite"]
    (True, 3, 1)
    >>> shifted = ks_test(reference, reference + 50.0)
    >>> shifted.statistic, shifted.p_value < 1e-6
    (0.5, True)
    """
    reference = np.asarray(reference_sorted, dtype=np.float64).ravel()
    reference = reference[np.isfinite(reference)]
    if reference.size == 0:
        raise ProfileError(
            "KS test needs at least one finite reference value; rebuild the reference profile"
        )
    values = as_float_array(batch)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise BatchError(
            f"KS test needs at least one finite batch value, got none out of {values.size}"
        )
    result = stats.ks_2samp(reference, finite)
    return TestResult(
        test="ks",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        n_reference=int(reference.size),
        n_batch=int(finite.size),
        details={
            "dropped_non_finite": int(values.size - finite.size),
            "statistic_location": float(result.statistic_location),
            "statistic_sign": int(result.statistic_sign),
            "reference_mean": float(np.mean(reference)),
            "batch_mean": float(np.mean(finite)),
        },
    )
