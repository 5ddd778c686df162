"""One merge of a sorted reference with a batch gives the exact KS and Wasserstein statistics.

``scipy.stats.ks_2samp`` and ``scipy.stats.wasserstein_distance`` sort both samples and
binary-search every pooled value in each of them. With the reference already sorted (it is
stored sorted in the profile) one sort of the batch and one ``searchsorted`` are enough: the
pooled order and the two empirical CDFs follow from the merge positions. Both statistics
are computed from the very same floating-point quotients and in the same summation order as
scipy's, so they are bit-for-bit equal (checked in ``tests/unit/test_drift_fast.py``).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "Merged",
    "ks_and_wasserstein",
    "ks_and_wasserstein_blocks",
    "ks_and_wasserstein_sorted",
    "ks_statistic",
    "merge",
    "wasserstein_distance",
]


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
    batch_sorted = batch
    if batch.size > 1 and bool(np.any(batch[1:] < batch[:-1])):
        batch_sorted = np.sort(batch)
    n_ref, n_batch = int(reference_sorted.size), int(batch_sorted.size)
    pooled = np.concatenate([reference_sorted, batch_sorted])
    # Two sorted runs: the stable sort merges them in linear time, ties reference-first
    # (scipy's side="right" counts).
    order = np.argsort(pooled, kind="stable")
    values = np.take(pooled, order)
    del pooled
    is_batch = order >= n_ref
    del order
    n = n_ref + n_batch
    count_type = np.int32 if n < 2**31 - 1 else np.int64
    batch_counts: NDArray[np.signedinteger[Any]] = np.cumsum(is_batch, dtype=count_type)
    del is_batch
    ones: NDArray[np.signedinteger[Any]] = np.arange(1, n + 1, dtype=count_type)
    reference_counts = np.subtract(ones, batch_counts, out=ones)
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
    return _weighted_sum(np.abs(ref_cdf - batch_cdf), deltas)


def _weighted_sum(gaps: NDArray[np.float64], deltas: NDArray[np.float64]) -> float:
    """Sum of ``gaps * deltas`` in the order (and so with the rounding) scipy's sum uses."""
    if np.__version__ > "2.0":
        return float(np.vecdot(gaps, deltas))
    return float(np.sum(gaps * deltas))  # pragma: no cover


def ks_and_wasserstein(m: Merged) -> tuple[float, float, int, float]:
    """``ks_statistic(m)`` and ``wasserstein_distance(m)`` from one pass over the CDF gaps.

    Examples
    --------
    >>> ks_and_wasserstein(merge(np.arange(10.0), np.arange(5.0, 15.0)))
    (0.5, 4.0, 1, 5.0)
    """
    if m.values.size < 2:
        return (*ks_statistic(m), wasserstein_distance(m))
    deltas = np.diff(m.values)
    gaps = m.reference_counts[:-1] / m.n_reference
    gaps -= m.batch_counts[:-1] / m.n_batch
    if np.count_nonzero(deltas) != deltas.size:  # ties: only run ends count for KS
        distance = _weighted_sum(np.abs(gaps), deltas)
        return (*ks_statistic(m), distance)
    # No ties: every position ends a run; the last one (gap 1 - 1 = 0.0) is not in ``gaps``.
    return _extremes(gaps, deltas, m.values)


CHUNK = 1 << 15
"""Reference values per block of ``ks_and_wasserstein_sorted`` (a block's work fits in cache)."""

POOL_THREAD_PREFIX = "driftloop-drift"
"""Name prefix of ``detect_drift``'s own worker threads, the only ones that keep scratch arrays."""

_SCRATCH = threading.local()


def _scratch(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two float64 arrays of length ``n``: kept per drift worker thread, else fresh.

    Reusing them spares the page faults of touching 16 bytes per pooled value anew for every
    column. Only ``detect_drift``'s own pool threads keep them, and those end with the call;
    any other thread (the main one, a Prefect or Dask worker) gets new arrays every time.
    """
    if not threading.current_thread().name.startswith(POOL_THREAD_PREFIX):
        return np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64)
    buffer: NDArray[np.float64] | None = getattr(_SCRATCH, "buffer", None)
    if buffer is None or buffer.shape[1] < n:
        buffer = _SCRATCH.buffer = np.empty((2, n), dtype=np.float64)
    return buffer[0, :n], buffer[1, :n]


def _blocks(
    reference_sorted: NDArray[np.float64], batch_sorted: NDArray[np.float64], chunk: int
) -> list[tuple[int, int, int, int]]:
    """(reference start, stop, batch start, stop) of blocks split at the same reference values."""
    splits = reference_sorted[chunk::chunk]
    n_ref, n_batch = int(reference_sorted.size), int(batch_sorted.size)
    ref_cuts = np.concatenate([[0], np.searchsorted(reference_sorted, splits, "left"), [n_ref]])
    bat_cuts = np.concatenate([[0], np.searchsorted(batch_sorted, splits, "left"), [n_batch]])
    return list(
        zip(
            ref_cuts[:-1].tolist(),
            ref_cuts[1:].tolist(),
            bat_cuts[:-1].tolist(),
            bat_cuts[1:].tolist(),
            strict=True,
        )
    )


def _statistic(
    high: float, high_at: float, low: float, low_at: float, top: float, distance: float
) -> tuple[float, float, int, float]:
    """The KS statistic, where it is reached and its sign, from the largest CDF gaps each way."""
    if not high >= 0.0:
        high, high_at = 0.0, top
    if not low <= 0.0:
        low, low_at = 0.0, top
    max_s, min_s = high, float(np.clip(-low, 0, 1))
    if min_s > max_s:
        return min_s, low_at, -1, distance
    return max_s, high_at, 1, distance


@functools.lru_cache(maxsize=8)
def _cdf_steps(n: int) -> NDArray[np.float64]:
    """``arange(n + 1) / n``, read-only: the ECDF values of a sample of size ``n``."""
    steps = np.arange(n + 1) / n
    steps.setflags(write=False)
    return steps


@functools.cache
def _kernel() -> Any:
    """The compiled merge (``drift.merge_kernel``), or None where numba is not installed."""
    try:
        from driftloop.drift.merge_kernel import merge_gaps
    except ImportError:  # pragma: no cover - numba is a dependency; this keeps numpy's merge
        return None
    return merge_gaps


def ks_and_wasserstein_sorted(
    reference_sorted: NDArray[np.float64], batch_sorted: NDArray[np.float64], chunk: int = CHUNK
) -> tuple[float, float, int, float]:
    """``ks_and_wasserstein(merge(reference, batch))`` for a sorted batch, in one linear pass.

    The compiled merge writes every pooled position's absolute CDF gap and value step into
    global arrays (so the weighted sum rounds exactly as scipy's) and finds the KS extremes
    on the way; with ties, or without numba (then ``ks_and_wasserstein_blocks`` with
    ``chunk``), the numpy merges are used.

    Examples
    --------
    >>> ks_and_wasserstein_sorted(np.arange(10.0), np.arange(5.0, 15.0))
    (0.5, 4.0, 1, 5.0)
    """
    n_ref, n_batch = int(reference_sorted.size), int(batch_sorted.size)
    n = n_ref + n_batch
    kernel = _kernel()
    if n_ref < 1 or n_batch < 1 or n >= 2**31 - 1 or kernel is None:
        return ks_and_wasserstein_blocks(reference_sorted, batch_sorted, chunk)
    gaps, deltas = _scratch(n)
    reference = np.ascontiguousarray(reference_sorted, dtype=np.float64)
    batch = np.ascontiguousarray(batch_sorted, dtype=np.float64)
    zeros, high, high_at, low, low_at = kernel(
        reference, batch, _cdf_steps(n_ref), _cdf_steps(n_batch), gaps, deltas
    )
    if zeros:  # ties: only run ends count for KS
        return ks_and_wasserstein(merge(reference_sorted, batch_sorted))
    top = max(float(reference[-1]), float(batch[-1]))
    distance = _weighted_sum(gaps[: n - 1], deltas[: n - 1])
    return _statistic(float(high), float(high_at), float(low), float(low_at), top, distance)


def ks_and_wasserstein_blocks(
    reference_sorted: NDArray[np.float64], batch_sorted: NDArray[np.float64], chunk: int = CHUNK
) -> tuple[float, float, int, float]:
    """``ks_and_wasserstein(merge(reference, batch))`` for a sorted batch, merged block by block.

    The numpy merge, used where numba is not installed. Blocks split both samples at the
    same reference value, so concatenating the blocks' merges gives the global merge. Each
    block's CDF gaps and value steps land in the very same global arrays (so the final
    weighted sum rounds exactly as scipy's), while the extremes, the tie check and the
    absolute values are done on the block, in cache. With ties the plain merge is used.

    Examples
    --------
    >>> ks_and_wasserstein_blocks(np.arange(10.0), np.arange(5.0, 15.0), chunk=3)
    (0.5, 4.0, 1, 5.0)
    """
    n_ref, n_batch = int(reference_sorted.size), int(batch_sorted.size)
    n = n_ref + n_batch
    if n_ref < 1 or n_batch < 1 or n >= 2**31 - 1:
        return ks_and_wasserstein(merge(reference_sorted, batch_sorted))
    gaps, deltas = _scratch(n)
    high, high_at, low, low_at = -np.inf, 0.0, np.inf, 0.0
    previous: float | None = None
    for r0, r1, b0, b1 in _blocks(reference_sorted, batch_sorted, chunk):
        start, stop = r0 + b0, r1 + b1
        if start == stop:
            continue
        pooled = np.concatenate([reference_sorted[r0:r1], batch_sorted[b0:b1]])
        order = np.argsort(pooled, kind="stable")
        values = np.take(pooled, order)
        batch_counts = np.cumsum(order >= r1 - r0, dtype=np.int32)
        batch_counts += b0
        reference_counts = np.arange(start + 1, stop + 1, dtype=np.int32)
        reference_counts -= batch_counts
        block = gaps[start:stop]
        np.divide(reference_counts, n_ref, out=block)
        block -= batch_counts / n_batch
        steps = deltas[start : stop - 1]
        np.subtract(values[1:], values[:-1], out=steps)
        if previous is not None:
            deltas[start - 1] = values[0] - previous
        if np.count_nonzero(deltas[max(start - 1, 0) : stop - 1]) != stop - 1 - max(start - 1, 0):
            return ks_and_wasserstein(merge(reference_sorted, batch_sorted))  # ties
        previous = float(values[-1])
        inner = block if stop < n else block[:-1]  # at the last position both CDFs are 1
        if inner.size:
            i, j = int(np.argmax(inner)), int(np.argmin(inner))
            if inner[i] > high:  # strict: the first of equal extremes wins, as in argmax
                high, high_at = float(inner[i]), float(values[i])
            if inner[j] < low:
                low, low_at = float(inner[j]), float(values[j])
        np.abs(block, out=block)
    top = max(float(reference_sorted[-1]), float(batch_sorted[-1]))
    distance = _weighted_sum(gaps[: n - 1], deltas[: n - 1])
    return _statistic(high, high_at, low, low_at, top, distance)


def _extremes(
    gaps: NDArray[np.float64], deltas: NDArray[np.float64], values: NDArray[np.float64]
) -> tuple[float, float, int, float]:
    """KS statistic, its location and sign, and the Wasserstein distance, from ECDF gaps.

    ``gaps`` covers every pooled position but the last (where both ECDFs reach 1).
    """
    arg_max, arg_min = int(np.argmax(gaps)), int(np.argmin(gaps))
    last = values.size - 1
    if not gaps[arg_max] >= 0.0:
        arg_max = last
    if not gaps[arg_min] <= 0.0:
        arg_min = last
    max_s = float(gaps[arg_max]) if arg_max < last else 0.0
    min_s = float(np.clip(-gaps[arg_min], 0, 1)) if arg_min < last else 0.0
    np.abs(gaps, out=gaps)
    distance = _weighted_sum(gaps, deltas)
    if min_s > max_s:
        return min_s, float(values[arg_min]), -1, distance
    return max_s, float(values[arg_max]), 1, distance
