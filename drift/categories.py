"""Turn categorical values into the string labels the profile and chi-squared test count."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["MISSING", "OTHER", "UNSEEN", "category_table", "count_categories", "to_labels"]

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


def _fast_counts(series: pd.Series) -> dict[str, int] | None:
    """Count with ``value_counts`` when grouping by value equals grouping by ``str`` label."""
    integer = pd.api.types.is_integer_dtype(series.dtype)
    counts = series.value_counts(dropna=False, sort=False)
    out: dict[str, int] = {}
    for key, count in zip(counts.index.tolist(), counts.tolist(), strict=True):
        if key is None or key is pd.NA or (isinstance(key, float) and key != key):
            label = MISSING
        elif isinstance(key, str) or (integer and isinstance(key, int)):
            label = str(key)
        else:  # floats, bools, mixed objects: 1 == 1.0 == True would merge distinct labels
            return None
        out[label] = out.get(label, 0) + int(count)
    return out


def count_categories(values: pd.Series | Iterable[object]) -> dict[str, int]:
    """Count each label of ``to_labels(values)``, keys sorted for a deterministic order.

    Examples
    --------
    >>> count_categories(["b", "a", "b", None])
    {'__missing__': 1, 'a': 1, 'b': 2}
    >>> count_categories(pd.Series([1, 1.0, True, float("nan")], dtype=object))
    {'1': 1, '1.0': 1, 'True': 1, '__missing__': 1}
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    fast = _fast_counts(series)
    if fast is not None:
        return {label: fast[label] for label in sorted(fast)}
    counts: dict[str, int] = {}
    for label in to_labels(series).tolist():
        counts[label] = counts.get(label, 0) + 1
    return {label: counts[label] for label in sorted(counts)}


def category_table(
    reference_counts: Mapping[str, int], batch_counts: Mapping[str, int]
) -> tuple[list[str], NDArray[np.int64], NDArray[np.int64], dict[str, int]]:
    """Align counts on the reference categories plus one ``"__unseen__"`` bucket (if needed).

    Returns the labels, reference counts, batch counts and the unseen batch categories.

    Examples
    --------
    >>> labels, ref, bat, unseen = category_table({"a": 3, "b": 1}, {"a": 1, "z": 2})
    >>> labels, ref.tolist(), bat.tolist(), unseen
    (['a', 'b', '__unseen__'], [3, 1, 0], [1, 0, 2], {'z': 2})
    """
    labels = [str(label) for label in reference_counts]
    unseen = {label: int(n) for label, n in batch_counts.items() if label not in reference_counts}
    ref = [int(n) for n in reference_counts.values()]
    bat = [int(batch_counts.get(label, 0)) for label in labels]
    if unseen:
        labels.append(UNSEEN)
        ref.append(0)
        bat.append(sum(unseen.values()))
    return labels, np.array(ref, dtype=np.int64), np.array(bat, dtype=np.int64), unseen
