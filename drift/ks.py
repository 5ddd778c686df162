"""Two-sample Kolmogorov-Smirnov test of a numeric batch against its sorted reference sample.

Statistic: always scipy's, bit for bit (``drift.ecdf``). P-value: scipy's own whenever
``ks_2samp`` would use its exact method (both sizes <= 10,000) or the effective size
``en = n m / (n + m)`` is below ``FAST_MIN_EN``. Above it scipy's ``kstwo.sf(d, round(en))``
costs up to ~1 s per column at 1M rows, so the asymptotic Kolmogorov distribution
``kstwobign.sf(d sqrt(en))`` (< 1 ms) is used instead. Its relative error against scipy is
at most ``FAST_REL_ERROR`` for p >= 1e-10 (measured over the grid in
``tests/unit/test_drift_fast.py``: 2.9% at en = 10,000, 1.2% at 50,000, 0.8% at 100,000,
0.3% at 500,000). A fast p-value that falls inside ``exact_band`` (the range of thresholds
a correction can use, widened) is recomputed with scipy's method, so drift decisions are
identical to scipy's. ``detect_drift`` passes ``NEVER_EXACT`` and recomputes instead only
the fast p-values whose decision the error bound leaves in doubt (``ks_p_value``).
"""

from __future__ import annotations

import math
import threading
import weakref

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from driftloop.drift.coerce import as_float_array
from driftloop.drift.ecdf import ks_and_wasserstein_sorted
from driftloop.drift.errors import BatchError, ProfileError
from driftloop.drift.result import TestResult

__all__ = [
    "FAST_MIN_EN",
    "FAST_REL_ERROR",
    "NEVER_EXACT",
    "SCIPY_EXACT_MAX_N",
    "ks_p_value",
    "ks_test",
    "normalised",
]

SCIPY_EXACT_MAX_N = 10_000
"""scipy's ``ks_2samp(method="auto")`` computes the exact p-value when both sizes are <= this."""

FAST_MIN_EN = 10_000
"""Effective size ``n m / (n + m)`` from which the asymptotic Kolmogorov p-value is used."""

FAST_REL_ERROR = 0.03
"""Bound on |fast - scipy| / scipy of the p-value for en >= FAST_MIN_EN and p >= 1e-10."""

FAST_METHOD = "asymptotic-kolmogorov"
"""``details["p_value_method"]`` of a fast p-value; scipy's are "scipy-exact", "scipy-kstwo"."""


NEVER_EXACT = (math.inf, math.inf)
"""An ``exact_band`` that keeps every fast p-value (the caller settles them, as detect does)."""


def ks_p_value(statistic: float, n_reference: int, n_batch: int) -> float:
    """scipy's asymptotic-method KS p-value: ``kstwo.sf(d, round(n m / (n + m)))``.

    Examples
    --------
    >>> round(ks_p_value(0.005, 100_000, 100_000), 4)
    0.1635
    """
    en = n_reference * n_batch / (n_reference + n_batch)
    return float(np.clip(stats.kstwo.sf(statistic, np.round(en)), 0.0, 1.0))


def normalised(distance: float, reference_std: float) -> float:
    """Wasserstein distance in reference standard deviations (1.0/0.0 for a constant reference).

    Examples
    --------
    >>> normalised(0.5, 2.0), normalised(0.3, 0.0), normalised(0.0, 0.0)
    (0.25, 1.0, 0.0)
    """
    if reference_std > 0.0:
        return distance / reference_std
    return 1.0 if distance > 0.0 else 0.0


_SUMMARIES: dict[int, tuple[weakref.ref[NDArray[np.float64]], float, float]] = {}
_SUMMARIES_LOCK = threading.Lock()


def _clean_reference(reference_sorted: ArrayLike) -> NDArray[np.float64]:
    """Return the finite reference values, sorted (a no-op for profile arrays)."""
    reference = np.asarray(reference_sorted, dtype=np.float64)
    if reference.ndim != 1:
        reference = reference.ravel()
    if not np.all(np.isfinite(reference)):
        reference = reference[np.isfinite(reference)]
    if reference.size == 0:
        raise ProfileError(
            "KS test needs at least one finite reference value; rebuild the reference profile"
        )
    if reference.size > 1 and bool(np.any(reference[1:] < reference[:-1])):
        reference = np.sort(reference)
    return reference


def _reference_summary(reference_sorted: ArrayLike) -> tuple[NDArray[np.float64], float, float]:
    """The clean reference, its mean and standard deviation.

    Read-only float64 arrays that own their data (the profile's numeric samples) are checked
    and summarised once per array and remembered while the array lives.
    """
    cacheable = (
        isinstance(reference_sorted, np.ndarray)
        and reference_sorted.dtype == np.float64
        and reference_sorted.ndim == 1
        and reference_sorted.base is None
        and not reference_sorted.flags.writeable
    )
    if cacheable:
        assert isinstance(reference_sorted, np.ndarray)
        key = id(reference_sorted)
        hit = _SUMMARIES.get(key)
        if hit is not None and hit[0]() is reference_sorted:
            return reference_sorted, hit[1], hit[2]
    reference = _clean_reference(reference_sorted)
    mean, std = float(np.mean(reference)), float(np.std(reference))
    if cacheable and reference is reference_sorted:

        def forget(_: object, key: int = key) -> None:
            with _SUMMARIES_LOCK:
                _SUMMARIES.pop(key, None)

        with _SUMMARIES_LOCK:
            _SUMMARIES[key] = (weakref.ref(reference, forget), mean, std)
    return reference, mean, std


_Ks = tuple[float, float, float, int, float, str]
"""statistic, p-value, statistic location, statistic sign, Wasserstein distance, method."""


def _scipy_ks(reference: NDArray[np.float64], finite: NDArray[np.float64]) -> _Ks:
    """scipy's own test (exact for small samples) and Wasserstein distance."""
    result = stats.ks_2samp(reference, finite)
    distance = float(stats.wasserstein_distance(reference, finite))
    n = max(reference.size, finite.size)
    method = "scipy-exact" if n <= SCIPY_EXACT_MAX_N else "scipy-kstwo"
    return (
        float(result.statistic),
        float(result.pvalue),
        float(result.statistic_location),
        int(result.statistic_sign),
        distance,
        method,
    )


def _fast_ks(
    reference: NDArray[np.float64],
    finite_sorted: NDArray[np.float64],
    en: float,
    exact_band: tuple[float, float],
) -> _Ks:
    """The merged statistic with the asymptotic p-value, scipy's inside ``exact_band``."""
    statistic, location, sign, distance = ks_and_wasserstein_sorted(reference, finite_sorted)
    p_value = float(np.clip(stats.kstwobign.sf(statistic * math.sqrt(en)), 0.0, 1.0))
    low, high = exact_band
    if low <= p_value <= high:  # near a decision threshold: use scipy's own p-value
        p_value = ks_p_value(statistic, int(reference.size), int(finite_sorted.size))
        return statistic, p_value, location, sign, distance, "scipy-kstwo"
    return statistic, p_value, location, sign, distance, FAST_METHOD


def ks_test(
    reference_sorted: ArrayLike,
    batch: ArrayLike,
    exact_band: tuple[float, float] = (0.0, 1.0),
) -> TestResult:
    """Two-sided two-sample KS test equal to ``scipy.stats.ks_2samp`` (see the module notes).

    Non-finite batch values are dropped and counted in ``details["dropped_non_finite"]``;
    ``details["wasserstein"]`` is scipy's Wasserstein distance of the same samples and
    ``details["effect_size"]`` that distance over the reference standard deviation.

    Examples
    --------
    >>> reference = np.arange(100.0)
    >>> same = ks_test(reference, [3.0, 41.0, float("nan"), 77.0])
    >>> same.p_value > 0.5, same.n_batch, same.details["dropped_non_finite"]
    (True, 3, 1)
    >>> shifted = ks_test(reference, reference + 50.0)
    >>> shifted.statistic, shifted.p_value < 1e-6, shifted.details["wasserstein"]
    (0.5, True, 50.0)
    """
    reference, reference_mean, std = _reference_summary(reference_sorted)
    values = as_float_array(batch)
    finite_mask = np.isfinite(values)
    finite = values if bool(finite_mask.all()) else values[finite_mask]
    if finite.size == 0:
        raise BatchError(
            f"KS test needs at least one finite batch value, got none out of {values.size}"
        )
    n1, n2 = int(reference.size), int(finite.size)
    en = max(n1, n2) * min(n1, n2) / (n1 + n2)
    if max(n1, n2) <= SCIPY_EXACT_MAX_N or en < FAST_MIN_EN:
        statistic, p_value, location, sign, distance, method = _scipy_ks(reference, finite)
    else:
        if finite.size > 1 and bool(np.any(finite[1:] < finite[:-1])):
            finite = np.sort(finite)
        statistic, p_value, location, sign, distance, method = _fast_ks(
            reference, finite, en, exact_band
        )
    return TestResult(
        test="ks",
        statistic=statistic,
        p_value=p_value,
        n_reference=n1,
        n_batch=n2,
        details={
            "dropped_non_finite": int(values.size - n2),
            "p_value_method": method,
            "statistic_location": location,
            "statistic_sign": sign,
            "reference_mean": reference_mean,
            "batch_mean": float(np.mean(finite)),
            "wasserstein": distance,
            "effect_size": normalised(distance, std),
        },
    )
