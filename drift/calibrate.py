"""Monte-Carlo p-values for distance statistics, calibrated at the live batch size.

Distances (PSI, Jensen-Shannon, Wasserstein) have no closed-form null distribution, and a
fixed threshold misfires at small n and flags everything at large n. Here the threshold
follows from the reference itself: the statistic is recomputed on ``draws`` pairs of
samples drawn from the reference distribution at the live sizes, and the p-value is
``(1 + #{null >= observed}) / (1 + draws)`` (a valid Monte-Carlo p-value, never below
``1 / (1 + draws)``). Binned statistics draw multinomial counts from the reference bin
shares at the exact sizes; the Wasserstein distance draws bootstrap chunks of at most
``MAX_CHUNK`` values and compares ``sqrt(n m / (n + m))``-scaled distances (its asymptotic
scaling), an approximation documented in ``drift.wasserstein``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from driftloop.drift.bins import bin_counts, quantile_edges
from driftloop.drift.result import TestResult

__all__ = ["DRAWS", "MAX_CHUNK", "bootstrap_p_value", "monte_carlo_p", "multinomial_p_value"]

DRAWS = 2000
"""Default number of null draws (smallest attainable p-value 1/2001 ~ 5e-4)."""

MAX_CHUNK = 2000
"""Largest bootstrap chunk drawn per side for sample-based statistics."""

_TOLERANCE = 1e-12


def monte_carlo_p(null: NDArray[np.float64], observed: float) -> float:
    """Return ``(1 + #{null >= observed}) / (1 + len(null))``, with a float tolerance.

    Examples
    --------
    >>> monte_carlo_p(np.array([0.1, 0.2, 0.3]), 0.25)
    0.5
    """
    exceed = int(np.count_nonzero(null >= observed - _TOLERANCE * max(1.0, abs(observed))))
    return (1 + exceed) / (1 + null.size)


def multinomial_p_value(
    statistic: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]],
    reference_counts: NDArray[np.int64],
    n_batch: int,
    observed: float,
    draws: int = DRAWS,
    seed: int = 0,
) -> float:
    """P-value of a binned statistic: both sides redrawn from the reference shares, row-wise.

    ``statistic(ref_counts, batch_counts)`` takes 2-D count arrays (one draw per row).

    Examples
    --------
    >>> from drift.psi import psi_from_counts
    >>> ref = np.array([500, 300, 200])
    >>> multinomial_p_value(psi_from_counts, ref, 100, 1.0, draws=99)
    0.01
    """
    shares = reference_counts / reference_counts.sum()
    rng = np.random.default_rng(seed)
    ref = rng.multinomial(int(reference_counts.sum()), shares, size=draws).astype(np.float64)
    bat = rng.multinomial(int(n_batch), shares, size=draws).astype(np.float64)
    return monte_carlo_p(np.asarray(statistic(ref, bat), dtype=np.float64), observed)


def bootstrap_p_value(
    statistic: Callable[[NDArray[np.float64], NDArray[np.float64]], float],
    reference: NDArray[np.float64],
    n_batch: int,
    observed: float,
    draws: int = 500,
    seed: int = 0,
) -> float:
    """P-value of a root-n statistic from bootstrap chunk pairs of the reference, rescaled.

    Examples
    --------
    >>> from scipy.stats import wasserstein_distance
    >>> ref = np.random.default_rng(0).normal(size=1000)
    >>> bootstrap_p_value(wasserstein_distance, ref, 200, 5.0, draws=99)
    0.01
    """
    n_ref = int(reference.size)
    k_ref, k_bat = min(n_ref, MAX_CHUNK), min(int(n_batch), MAX_CHUNK)
    scale = np.sqrt(k_ref * k_bat / (k_ref + k_bat)) / np.sqrt(n_ref * n_batch / (n_ref + n_batch))
    rng = np.random.default_rng(seed)
    null = np.empty(draws, dtype=np.float64)
    for i in range(draws):
        first = reference[rng.integers(0, n_ref, size=k_ref)]
        second = reference[rng.integers(0, n_ref, size=k_bat)]
        null[i] = statistic(first, second)
    return monte_carlo_p(null, observed * float(scale))


def binned_result(
    test: str,
    distance: Callable[[Any, Any], NDArray[np.float64]],
    ref: NDArray[np.int64],
    bat: NDArray[np.int64],
    labels: list[str],
    draws: int,
    seed: int,
) -> TestResult:
    """The TestResult of a distance between two aligned count vectors, p-value simulated."""
    value = float(distance(ref, bat))
    p_value = multinomial_p_value(distance, ref, int(bat.sum()), value, draws, seed)
    details = {"bins": labels, "reference_counts": ref.tolist(), "batch_counts": bat.tolist()}
    return TestResult(test, value, p_value, int(ref.sum()), int(bat.sum()), details)


def binned_numeric(
    test: str,
    distance: Callable[[Any, Any], NDArray[np.float64]],
    reference_sorted: NDArray[np.float64],
    batch: NDArray[np.float64],
    draws: int,
    seed: int,
) -> TestResult:
    """A binned distance of numeric values on the reference deciles, p-value simulated."""
    edges = quantile_edges(reference_sorted)
    labels = [f"<= {e:.4g}" for e in edges] + [f"> {edges[-1]:.4g}" if edges.size else "all"]
    ref, bat = bin_counts(reference_sorted, edges), bin_counts(batch, edges)
    return binned_result(test, distance, ref, bat, labels, draws, seed)
