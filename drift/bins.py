"""Reference-quantile bins for numeric features: the shared basis of PSI, JS and the HTML plot."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["BINS", "bin_counts", "quantile_edges", "sorted_bin_counts"]

BINS = 10
"""Default number of reference-quantile bins (deciles)."""


def quantile_edges(reference_sorted: NDArray[np.float64], bins: int = BINS) -> NDArray[np.float64]:
    """Return the distinct inner edges at the reference quantiles 1/bins, ..., (bins-1)/bins.

    Examples
    --------
    >>> quantile_edges(np.arange(100.0), bins=4).tolist()
    [24.75, 49.5, 74.25]
    """
    inner = np.quantile(reference_sorted, np.linspace(0.0, 1.0, bins + 1)[1:-1])
    return np.unique(inner)


def bin_counts(values: NDArray[np.float64], edges: NDArray[np.float64]) -> NDArray[np.int64]:
    """Count finite ``values`` in the bins (-inf, e1], (e1, e2], ..., (ek, inf).

    Examples
    --------
    >>> bin_counts(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.5])).tolist()
    [2, 1, 1]
    """
    index = np.searchsorted(edges, values, side="left")
    return np.bincount(index, minlength=edges.size + 1).astype(np.int64)


def sorted_bin_counts(
    values_sorted: NDArray[np.float64], edges: NDArray[np.float64]
) -> NDArray[np.int64]:
    """``bin_counts`` of already sorted finite values, from one binary search per edge.

    Examples
    --------
    >>> sorted_bin_counts(np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 2.5])).tolist()
    [2, 1, 1]
    """
    cumulative = np.searchsorted(values_sorted, edges, side="right")
    return np.diff(cumulative, prepend=0, append=values_sorted.size).astype(np.int64)
