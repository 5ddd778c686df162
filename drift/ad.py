"""Anderson-Darling k-sample test (``scipy.stats.anderson_ksamp``) of reference vs batch.

scipy interpolates the p-value from a table and caps it to [0.001, 0.25]; the cap is kept
(the p-value is scipy's, unchanged) and flagged in ``details["p_value_capped"]``.
"""

from __future__ import annotations

import warnings

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from driftloop.drift.result import TestResult

__all__ = ["ad_test"]


def ad_test(reference_sorted: NDArray[np.float64], batch: NDArray[np.float64]) -> TestResult:
    """Run scipy's k-sample Anderson-Darling test on the reference and finite batch values.

    Examples
    --------
    >>> ref = np.sort(np.random.default_rng(0).normal(size=500))
    >>> ad_test(ref, ref[::5] + 1.0).p_value
    0.001
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "p-value capped/floored" notices
        result = stats.anderson_ksamp([reference_sorted, batch])
    p_value = float(result.pvalue)
    details = {"p_value_capped": p_value in (0.001, 0.25)}
    return TestResult(
        "ad", float(result.statistic), p_value, int(reference_sorted.size), int(batch.size), details
    )
