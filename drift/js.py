"""Jensen-Shannon distance (``scipy.spatial.distance.jensenshannon``, base 2, in [0, 1]).

Numeric features use the reference-decile bins of ``drift.bins``; categorical features the
reference categories plus an unseen bucket. The p-value is calibrated at the live sizes
(``drift.calibrate``), so a small batch is not flagged for its sampling noise alone.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.spatial.distance import jensenshannon

from driftloop.drift.calibrate import DRAWS, binned_numeric, binned_result
from driftloop.drift.categories import category_table
from driftloop.drift.result import TestResult

__all__ = ["js_categorical", "js_distance", "js_numeric"]


def js_distance(reference: ArrayLike, batch: ArrayLike) -> NDArray[np.float64]:
    """Base-2 JS distance of count vectors (row-wise for 2-D arrays); 0.0 for identical shares.

    Examples
    --------
    >>> float(js_distance([1, 1], [1, 1])), float(js_distance([1, 0], [0, 1]))
    (0.0, 1.0)
    """
    ref = np.asarray(reference, dtype=np.float64)
    bat = np.asarray(batch, dtype=np.float64)
    out = jensenshannon(ref, bat, base=2, axis=-1)
    return np.nan_to_num(np.asarray(out, dtype=np.float64), nan=0.0)  # nan: rounding at 0


def js_numeric(
    reference_sorted: NDArray[np.float64],
    batch: NDArray[np.float64],
    draws: int = DRAWS,
    seed: int = 0,
) -> TestResult:
    """JS distance of finite batch values on the reference deciles, with a calibrated p-value.

    Examples
    --------
    >>> ref = np.sort(np.random.default_rng(0).normal(size=5000))
    >>> js_numeric(ref, ref[::10]).p_value > 0.5, js_numeric(ref, ref[::10] + 1).p_value < 0.001
    (True, True)
    """
    return binned_numeric("js", js_distance, reference_sorted, batch, draws, seed)


def js_categorical(
    reference_counts: Mapping[str, int],
    batch_counts: Mapping[str, int],
    draws: int = DRAWS,
    seed: int = 0,
) -> TestResult:
    """JS distance over the reference categories plus an unseen bucket, calibrated p-value.

    Examples
    --------
    >>> round(js_categorical({"a": 500, "b": 500}, {"a": 50, "b": 50}).statistic, 6)
    0.0
    """
    labels, ref, bat, _ = category_table(reference_counts, batch_counts)
    return binned_result("js", js_distance, ref, bat, labels, draws, seed)
