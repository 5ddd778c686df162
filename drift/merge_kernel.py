"""The compiled merge of ``drift.ecdf``: CDF gaps and value steps in one pass (numba).

A sorted reference and a sorted batch are merged as four independent runs (split at pooled
positions N/4, N/2, 3N/4 by binary search on the merge path), advanced in lockstep in one
loop so that the processor overlaps their otherwise serial compare-and-advance chains.
Each pooled position writes the same floating-point values the numpy merge writes, ties
reference-first as in a stable sort: the absolute CDF gap ``|i/n - j/m|`` (both quotients
read from tables of ``arange(n + 1) / n``, the very divisions numpy does) and the step to
the next pooled value. The caller takes the weighted sum of both arrays exactly as scipy
does, so the KS statistic and the Wasserstein distance stay bit for bit scipy's.

numba is imported with this module; ``drift.ecdf`` imports it on first use only and keeps
its numpy block merge where numba is not installed.
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = ["merge_gaps"]

_State = tuple[int, int, int, int, float, float, float, float, float, int]
"""One run: batch/reference read positions, their ends, the last value, the largest and
smallest signed gap with the value where each was first reached, the count of zero steps."""

_JIT: dict[str, Any] = {"nogil": True, "cache": True, "boundscheck": False}


@numba.njit(**_JIT)
def _split(a: NDArray[np.float64], b: NDArray[np.float64], p: int) -> int:
    """How many reference values are among the first ``p`` pooled ones (ties reference-first)."""
    lo, hi = max(0, p - b.size), min(p, a.size)
    while lo < hi:
        mid = (lo + hi) // 2
        if a[mid] <= b[p - mid - 1]:
            lo = mid + 1
        else:
            hi = mid
    return lo


@numba.njit(**_JIT)
def _run(a: NDArray[np.float64], b: NDArray[np.float64], p: int, q: int) -> _State:
    """The state of the run that writes pooled positions ``p`` to ``q - 1``."""
    i, ie = _split(a, b, p), _split(a, b, q)
    j, je = p - i, q - ie
    prev = -np.inf  # the first step of the first run lands in the unused last slot
    if i > 0:
        prev = a[i - 1]
    if j > 0:
        prev = max(prev, b[j - 1])
    return (i, j, ie, je, prev, -np.inf, 0.0, np.inf, 0.0, 0)


@numba.njit(inline="always", **_JIT)
def _step(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    cdf_a: NDArray[np.float64],
    cdf_b: NDArray[np.float64],
    gaps: NDArray[np.float64],
    steps: NDArray[np.float64],
    s: _State,
) -> _State:
    """Take the next pooled value of one run; write its gap and the step up to it."""
    i, j, ie, je, prev, high, high_at, low, low_at, zeros = s
    x, y = a[min(i, a.size - 1)], b[min(j, b.size - 1)]
    take_a = (i < ie) & ((j >= je) | (x <= y))
    value = x if take_a else y
    k = i + j
    i += take_a
    j += 1 - take_a
    gap = cdf_a[i] - cdf_b[j]
    step = value - prev
    zeros += step == 0.0
    steps[k - 1] = step
    if gap > high:
        high, high_at = gap, value
    if gap < low:
        low, low_at = gap, value
    gaps[k] = abs(gap)
    return (i, j, ie, je, value, high, high_at, low, low_at, zeros)


@numba.njit(**_JIT)
def merge_gaps(
    a: NDArray[np.float64],
    b: NDArray[np.float64],
    cdf_a: NDArray[np.float64],
    cdf_b: NDArray[np.float64],
    gaps: NDArray[np.float64],
    steps: NDArray[np.float64],
) -> tuple[int, float, float, float, float]:
    """Fill ``gaps`` and ``steps`` (N each) for the merge of non-empty sorted ``a`` and ``b``.

    ``steps[k]`` is the step from pooled value k to k + 1; ``steps[N - 1]`` is scratch.

    Returns the number of zero steps (ties), then the largest signed gap and the pooled
    value where it is first reached, and the same for the smallest.
    """
    n = a.size + b.size
    e0, e1, e2, e3 = 0, n // 4, n // 2, 3 * n // 4
    s0, s1, s2, s3 = _run(a, b, e0, e1), _run(a, b, e1, e2), _run(a, b, e2, e3), _run(a, b, e3, n)
    for _ in range(n // 4):
        s0 = _step(a, b, cdf_a, cdf_b, gaps, steps, s0)
        s1 = _step(a, b, cdf_a, cdf_b, gaps, steps, s1)
        s2 = _step(a, b, cdf_a, cdf_b, gaps, steps, s2)
        s3 = _step(a, b, cdf_a, cdf_b, gaps, steps, s3)
    while s1[0] + s1[1] < e2:  # runs after the first may be a few positions longer
        s1 = _step(a, b, cdf_a, cdf_b, gaps, steps, s1)
    while s2[0] + s2[1] < e3:
        s2 = _step(a, b, cdf_a, cdf_b, gaps, steps, s2)
    while s3[0] + s3[1] < n:
        s3 = _step(a, b, cdf_a, cdf_b, gaps, steps, s3)
    high, high_at, low, low_at, zeros = -np.inf, 0.0, np.inf, 0.0, 0
    for s in (s0, s1, s2, s3):  # in pooled order: strict, so the first extreme wins
        if s[5] > high:
            high, high_at = s[5], s[6]
        if s[7] < low:
            low, low_at = s[7], s[8]
        zeros += s[9]
    return zeros, high, high_at, low, low_at
