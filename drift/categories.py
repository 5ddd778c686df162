"""Turn categorical values into the string labels the profile and chi-squared test count."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

__all__ = ["MISSING", "OTHER", "UNSEEN", "count_categories", "to_labels"]

MISSING = "__missing__"
"""Label under which missing values (None, NaN, NA) are counted."""

UNSEEN = "__unseen__"
"""Column into which the chi-squared test pools batch categories absent from the reference."""

OTHER = "__other__"
"""Column into which the chi-squared test merges sparse categories."""


def to_labels(values: pd.Series | Iterable[object]) -> pd.Series:
    """Convert values to ``str`` labels, mapping missing values to ``MISSING``.

    Examples
    --------
    >>> to_labels([1, "1", None, float("nan"), "b"]).tolist()
    ['1', '1', '__missing__', '__missing__', 'b']
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    missing = series.isna().to_numpy()
    labels = [
        MISSING if gone else str(value)
        for value, gone in zip(series.tolist(), missing, strict=True)
    ]
    return pd.Series(labels, index=series.index, dtype=object)


def count_categories(values: pd.Series | Iterable[object]) -> dict[str, int]:
    """Count each label of ``to_labels(values)``, keys sorted for a deterministic order.

    Examples
    --------
    >>> count_categories(["b", "a", "b", None])
    {'__missing__': 1, 'a': 1, 'b': 2}
    """
    counts: dict[str, int] = {}
    for label in to_labels(values).tolist():
        counts[label] = counts.get(label, 0) + 1
    return {label: counts[label] for label in sorted(counts)}
