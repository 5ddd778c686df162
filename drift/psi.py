"""Population stability index on reference-quantile bins (numeric) or categories.

``PSI = sum((q - p) ln(q / p))`` over bins, with ``p``/``q`` the reference/batch shares
after adding half a count to every bin (so empty bins give a finite value). The customary
0.1 / 0.25 bands ignore sample size, so the p-value is calibrated at the live sizes
(``drift.calibrate``); PSI is reported, and gates only through that p-value.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import rel_entr

from driftloop.drift.calibrate import DRAWS, binned_numeric, binned_result
from driftloop.drift.categories import category_table
from driftloop.drift.result import TestResult

__all__ = ["psi_categorical", "psi_from_counts", "psi_numeric"]


def psi_from_counts(reference: ArrayLike, batch: ArrayLike) -> NDArray[np.float64]:
    """PSI of count vectors (or row-wise of 2-D count arrays), half a count added per bin.

    Examples
    --------
    >>> round(float(psi_from_counts([90, 10], [50, 50])), 4)
    0.8531
    """
    ref = np.asarray(reference, dtype=np.float64) + 0.5
    bat = np.asarray(batch, dtype=np.float64) + 0.5
    p = ref / ref.sum(axis=-1, keepdims=True)
    q = bat / bat.sum(axis=-1, keepdims=True)
    return np.asarray((rel_entr(q, p) + rel_entr(p, q)).sum(axis=-1), dtype=np.float64)


def psi_numeric(
    reference_sorted: NDArray[np.float64],
    batch: NDArray[np.float64],
    draws: int = DRAWS,
    seed: int = 0,
) -> TestResult:
    """PSI of finite batch values on the reference deciles, with a calibrated p-value.

    Examples
    --------
    >>> ref = np.sort(np.random.default_rng(0).normal(size=5000))
    >>> psi_numeric(ref, ref[::10]).p_value > 0.5, psi_numeric(ref, ref[::10] + 1).p_value
    (True, 0.0004997501249375312)
    """
    return binned_numeric("psi", psi_from_counts, reference_sorted, batch, draws, seed)


def psi_categorical(
    reference_counts: Mapping[str, int],
    batch_counts: Mapping[str, int],
    draws: int = DRAWS,
    seed: int = 0,
) -> TestResult:
    """PSI over the reference categories plus an unseen bucket, with a calibrated p-value.

    Examples
    --------
    >>> psi_categorical({"a": 500, "b": 500}, {"a": 40, "b": 40, "z": 20}).p_value < 0.001
    True
    """
    labels, ref, bat, _ = category_table(reference_counts, batch_counts)
    return binned_result("psi", psi_from_counts, ref, bat, labels, draws, seed)
