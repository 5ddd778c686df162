"""Two-sample Cramér-von Mises test (``scipy.stats.cramervonmises_2samp``, method "auto")."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from driftloop.drift.result import TestResult

__all__ = ["cvm_test"]


def cvm_test(reference_sorted: NDArray[np.float64], batch: NDArray[np.float64]) -> TestResult:
    """Run scipy's two-sample Cramér-von Mises test; statistic and p-value are scipy's.

    Examples
    --------
    >>> ref = np.sort(np.random.default_rng(0).normal(size=500))
    >>> cvm_test(ref, ref[::5]).p_value > 0.9, cvm_test(ref, ref[::5] + 1.0).p_value < 1e-6
    (True, True)
    """
    result = stats.cramervonmises_2samp(reference_sorted, batch)
    return TestResult(
        "cvm",
        float(result.statistic),
        float(result.pvalue),
        int(reference_sorted.size),
        int(batch.size),
        {},
    )
