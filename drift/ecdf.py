"""One merge of a sorted reference with a batch gives the exact KS and Wasserstein statistics.

``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance`` sort both samples and
binary-search every pooled value in each of them. With the reference already sorted (it is
stored sorted in the profile) one sort of the batch and one ``searchsorted`` are enough: the
pooled order and the two empirical CDFs follow from the merge positions. Both statistics
are computed from the very same floating-point quotients and in the same summation order as
scipy's, so they are bit-for-bit equal (checked in ``tests/unit/test_drift_fast.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Merged", "ks_statistic", "merge", "wasserstein_distance"]


@dataclass(frozen=True)
class Merged:
    """The pooled sorted sample and, at each position, how many reference/batch values precede."""

    values: NDArray[np.float64]
    reference_counts: NDArray[np.signedinteger[Any]]
    batch_counts: NDArray[np.signedinteger[Any]]
    n_reference: int
    n_batch: int


def merge(reference_sorted: NDArray[np.float64], batch: NDArray[np.float64]) -> Merged:
    """Merge a sorted reference with a (not necessarily sorted) batch of finite values.

    Examples
    --------
    >>> m = merge(np.array([1.0, 2.0, 4.0]), np.array([3.0, 2.0]))
    >>> m.values.tolist(), m.reference_counts.tolist(), m.batch_counts.tolist()
    ([1.0, 2.0, 2.0, 3.0, 4.0], [1, 2, 2, 2, 3], [0, 0, 1, 2, 2])
    """
    batch_sorted = np.sort(batch)
    n_ref, n_batch = int(reference_sorted.size), int(batch_sorted.size)
    pooled = np.concatenate([reference_sorted, batch_sorted])
    # Two sorted runs: the stable sort merges them in linear time, ties reference-first
    # (scipy's side="right" counts).
    order = np.argsort(pooled, kind="stable")
    values = pooled[order]
    del pooled
    is_batch = order >= n_ref
    del order
    count_type = np.int32 if n_ref + n_batch < 2**31 - 1 else np.int64
    batch_counts: NDArray[np.signedinteger[Any]] = np.cumsum(is_batch, dtype=count_type)
    ones: NDArray[np.signedinteger[Any]] = np.arange(1, n_ref + n_batch + 1, dtype=count_type)
    reference_counts = ones - batch_counts
    return Merged(values, reference_counts, batch_counts, n_ref, n_batch)


def ks_statistic(m: Merged) -> tuple[float, float, int]:
    """Return scipy's two-sided KS statistic, its location and sign (+1: reference CDF above).

    Examples
    --------
    >>> ks_statistic(merge(np.arange(10.0), np.arange(5.0, 15.0)))
    (0.5, 4.0, 1)
    """
    last = np.empty(m.values.size, dtype=bool)  # last value of each run of ties
    np.not_equal(m.values[:-1], m.values[1:], out=last[:-1])
    last[-1] = True
    idx = np.flatnonzero(last)
    diffs = m.reference_counts[idx] / m.n_reference - m.batch_counts[idx] / m.n_batch
    arg_min, arg_max = int(np.argmin(diffs)), int(np.argmax(diffs))
    min_s = float(np.clip(-diffs[arg_min], 0, 1))
    max_s = float(diffs[arg_max])
    if min_s > max_s:
        return min_s, float(m.values[idx[arg_min]]), -1
    return max_s, float(m.values[idx[arg_max]]), 1


def wasserstein_distance(m: Merged) -> float:
    """Return ``scipy.stats.wasserstein_distance`` of reference and batch, bit for bit.

    Examples
    --------
    >>> wasserstein_distance(merge(np.array([0.0, 1.0]), np.array([2.0, 3.0])))
    2.0
    """
    deltas = np.diff(m.values)
    # At a run of ties delta is 0, so the CDF value used there does not matter.
    ref_cdf = m.reference_counts[:-1] / m.n_reference
    batch_cdf = m.batch_counts[:-1] / m.n_batch
    if np.__version__ > "2.0":
        return float(np.vecdot(np.abs(ref_cdf - batch_cdf), deltas))
    return float(np.sum(np.abs(ref_cdf - batch_cdf) * deltas))  # pragma: no cover
