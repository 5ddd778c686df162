"""Performance drift for any task: are a model's per-row errors on a batch unlike before?"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from driftloop.drift.errors import DriftError
from driftloop.drift.result import TestResult

__all__ = ["error_change_test"]


def error_change_test(reference_errors: ArrayLike, batch_errors: ArrayLike) -> TestResult:
    """Two-sided Mann-Whitney U test that batch errors are stochastically larger or smaller.

    Works on absolute regression errors (or 0/1 classification errors) measured on held-out
    reference data and on the new batch. Larger errors mean the model got worse; smaller
    ones that the data moved away from the reference too (see ``accuracy_change_test``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> ref = np.abs(rng.normal(0, 1, 500))
    >>> error_change_test(ref, np.abs(rng.normal(0, 2, 500))).p_value < 1e-6
    True
    >>> error_change_test(ref, np.abs(rng.normal(0, 0.5, 500))).p_value < 1e-6
    True
    >>> error_change_test(ref, np.abs(rng.normal(0, 1, 500))).p_value > 0.05
    True
    """
    ref = np.asarray(reference_errors, dtype=np.float64)
    new = np.asarray(batch_errors, dtype=np.float64)
    ref, new = ref[np.isfinite(ref)], new[np.isfinite(new)]
    if ref.size == 0 or new.size == 0:
        raise DriftError(
            f"error test needs errors on both sides (reference {ref.size}, batch {new.size}); "
            "a model version without stored reference errors cannot be tested this way"
        )
    result = stats.mannwhitneyu(new, ref, alternative="two-sided")
    return TestResult(
        test="error-change",
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        n_reference=int(ref.size),
        n_batch=int(new.size),
        details={"reference_mean_error": float(ref.mean()), "batch_mean_error": float(new.mean())},
    )
