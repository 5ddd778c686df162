"""Multiple-testing corrections that turn per-feature p-values into drift decisions."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from driftloop.drift.errors import DriftError

__all__ = [
    "CORRECTIONS",
    "benjamini_hochberg",
    "bonferroni",
    "canonical_method",
    "correct",
    "correction_for",
    "holm",
    "validate_alpha",
]


def validate_alpha(alpha: float) -> float:
    """Return ``alpha`` as a float after checking 0 < alpha < 1, else raise DriftError."""
    if isinstance(alpha, bool) or not isinstance(alpha, int | float) or not 0.0 < alpha < 1.0:
        raise DriftError(f"alpha must be a number with 0 < alpha < 1, got {alpha!r}")
    return float(alpha)


def _ranked(p_values: Mapping[str, float], alpha: float) -> list[tuple[str, float]]:
    """Validate inputs and return (name, p) pairs sorted by ascending p, ties in input order."""
    validate_alpha(alpha)
    pairs = []
    for name, p in p_values.items():
        if isinstance(p, bool) or not isinstance(p, int | float) or math.isnan(p):
            raise DriftError(f"p-value of {name!r} must be a number in [0, 1], got {p!r}")
        if not 0.0 <= p <= 1.0:
            raise DriftError(f"p-value of {name!r} must lie in [0, 1], got {p!r}")
        pairs.append((name, float(p)))
    return sorted(pairs, key=lambda pair: pair[1])


def bonferroni(p_values: Mapping[str, float], alpha: float) -> dict[str, bool]:
    """Flag each test whose p-value is <= alpha / m (m = number of tests).

    Examples
    --------
    >>> bonferroni({"a": 0.01, "b": 0.02, "c": 0.03, "d": 0.5}, alpha=0.05)
    {'a': True, 'b': False, 'c': False, 'd': False}
    """
    ranked = _ranked(p_values, alpha)
    threshold = alpha / len(ranked) if ranked else alpha
    return {name: float(p) <= threshold for name, p in p_values.items()}


def holm(p_values: Mapping[str, float], alpha: float) -> dict[str, bool]:
    """Holm's step-down procedure: reject sorted p_(k) while p_(k) <= alpha / (m - k + 1).

    Examples
    --------
    >>> holm({"a": 0.012, "b": 0.02, "c": 0.04}, alpha=0.05)
    {'a': True, 'b': True, 'c': True}
    """
    ranked = _ranked(p_values, alpha)
    m = len(ranked)
    rejected: set[str] = set()
    for k, (name, p) in enumerate(ranked):
        if p > alpha / (m - k):
            break
        rejected.add(name)
    return {name: name in rejected for name in p_values}


def benjamini_hochberg(p_values: Mapping[str, float], alpha: float) -> dict[str, bool]:
    """Benjamini-Hochberg step-up: reject the k smallest, k the largest with p_(k) <= k alpha / m.

    Examples
    --------
    >>> benjamini_hochberg({"a": 0.001, "b": 0.03, "c": 0.035, "d": 0.5}, alpha=0.05)
    {'a': True, 'b': True, 'c': True, 'd': False}
    """
    ranked = _ranked(p_values, alpha)
    m = len(ranked)
    cutoff = 0
    for k, (_, p) in enumerate(ranked, start=1):
        if p <= k * alpha / m:
            cutoff = k
    rejected = {name for name, _ in ranked[:cutoff]}
    return {name: name in rejected for name in p_values}


CORRECTIONS: dict[str, Callable[[Mapping[str, float], float], dict[str, bool]]] = {
    "bonferroni": bonferroni,
    "holm": holm,
    "benjamini_hochberg": benjamini_hochberg,
}
"""Correction procedures by name, as accepted by ``correct`` and ``detect_drift``."""


def correct(
    p_values: Mapping[str, float], alpha: float, method: str = "bonferroni"
) -> dict[str, bool]:
    """Apply the named correction and return which tests are significant.

    Examples
    --------
    >>> correct({"a": 0.01, "b": 0.02, "c": 0.03, "d": 0.5}, 0.05, method="holm")
    {'a': True, 'b': False, 'c': False, 'd': False}
    """
    return correction_for(method)(p_values, alpha)


def canonical_method(method: str) -> str:
    """Return the ``CORRECTIONS`` key for ``method`` (case and ``-``/``_`` are ignored).

    Examples
    --------
    >>> canonical_method("Benjamini-Hochberg")
    'benjamini_hochberg'
    """
    key = method.strip().lower().replace("-", "_") if isinstance(method, str) else None
    if key not in CORRECTIONS:
        raise DriftError(
            f"unknown correction method {method!r}; valid methods: {sorted(CORRECTIONS)} "
            "(hyphens and underscores are interchangeable)"
        )
    return key


def correction_for(method: str) -> Callable[[Mapping[str, float], float], dict[str, bool]]:
    """Return the correction function named ``method``, or raise DriftError listing valid names."""
    return CORRECTIONS[canonical_method(method)]
