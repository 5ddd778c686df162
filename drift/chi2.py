"""Chi-squared test of homogeneity of a categorical batch against reference counts."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

from driftloop.drift.categories import OTHER, UNSEEN, count_categories
from driftloop.drift.errors import BatchError, ProfileError
from driftloop.drift.result import TestResult

__all__ = ["MIN_EXPECTED", "chi2_from_counts", "chi2_test", "merge_sparse"]

MIN_EXPECTED = 5.0
"""A column whose expected count is below this in either row is merged into ``"__other__"``."""


def _expected(table: NDArray[np.float64]) -> NDArray[np.float64]:
    """Return the expected counts of a 2 x K table under homogeneity."""
    rows = table.sum(axis=1, keepdims=True)
    cols = table.sum(axis=0, keepdims=True)
    return np.asarray(rows * cols / table.sum(), dtype=np.float64)


def merge_sparse(
    labels: list[str], table: NDArray[np.float64]
) -> tuple[list[str], NDArray[np.float64], list[str]]:
    """Merge sparse columns (expected < 5 in a row) into ``"__other__"`` until none or 2 remain.

    Returns the new labels, the new table and the original labels merged into ``"__other__"``.

    Examples
    --------
    >>> table = np.array([[50.0, 40.0, 4.0, 3.0], [45.0, 50.0, 3.0, 4.0]])
    >>> labels, merged, absorbed = merge_sparse(["a", "b", "c", "d"], table)
    >>> labels, merged.tolist(), absorbed
    (['a', 'b', '__other__'], [[50.0, 40.0, 7.0], [45.0, 50.0, 7.0]], ['c', 'd'])
    """
    labels, table = list(labels), np.array(table, dtype=np.float64)
    absorbed: list[str] = []
    while len(labels) > 2:
        sparse = [j for j in range(len(labels)) if _expected(table)[:, j].min() < MIN_EXPECTED]
        if not sparse:
            break
        group = set(sparse)
        if OTHER in labels:
            group.add(labels.index(OTHER))
        if len(group) == 1:  # a lone sparse column: absorb the smallest other column into it
            totals = table.sum(axis=0)
            others = [j for j in range(len(labels)) if j not in group]
            group.add(min(others, key=lambda j: (totals[j], j)))
        if len(group) == len(labels):  # keep the largest column apart so two columns remain
            totals = table.sum(axis=0)
            group.discard(max(group, key=lambda j: (totals[j], -j)))
        absorbed.extend(labels[j] for j in sorted(group) if labels[j] != OTHER)
        keep = [j for j in range(len(labels)) if j not in group]
        merged = table[:, sorted(group)].sum(axis=1, keepdims=True)
        labels = [labels[j] for j in keep] + [OTHER]
        table = np.hstack([table[:, keep], merged])
    return labels, table, absorbed


def chi2_test(reference_counts: Mapping[str, int], batch: pd.Series) -> TestResult:
    """Run ``scipy.stats.chi2_contingency`` on the 2 x K table of reference vs batch counts.

    Batch values become ``str`` labels (missing -> ``"__missing__"``); categories absent from
    the reference are pooled into ``"__unseen__"``; sparse columns are merged into
    ``"__other__"``; all-zero columns are dropped. With fewer than two columns left there is
    nothing to compare: statistic 0.0, p-value 1.0, and ``details["note"]`` says why.

    Examples
    --------
    >>> reference = {"a": 500, "b": 500}
    >>> same = chi2_test(reference, pd.Series(["a"] * 50 + ["b"] * 50))
    >>> same.statistic, same.p_value
    (0.0, 1.0)
    >>> skewed = chi2_test(reference, pd.Series(["a"] * 80 + ["b"] * 20 + ["z"] * 5))
    >>> skewed.p_value < 1e-6, skewed.details["unseen"]
    (True, {'z': 5})
    """
    return chi2_from_counts(reference_counts, count_categories(batch))


def chi2_from_counts(
    reference_counts: Mapping[str, int], batch_counts: Mapping[str, int]
) -> TestResult:
    """``chi2_test`` on batch label counts already made by ``count_categories``.

    Examples
    --------
    >>> chi2_from_counts({"a": 50, "b": 50}, {"a": 50, "b": 50}).p_value
    1.0
    """
    reference = {str(k): int(v) for k, v in reference_counts.items()}
    if any(count < 0 for count in reference.values()):
        raise ProfileError("reference category counts must be non-negative")
    if sum(reference.values()) == 0:
        raise ProfileError(
            "reference category counts are all zero; rebuild the profile from reference data"
        )
    n_batch = sum(batch_counts.values())
    if n_batch == 0:
        raise BatchError("chi-squared test needs a non-empty batch, got no values")
    unseen = {label: count for label, count in batch_counts.items() if label not in reference}
    labels = list(reference)
    rows = [list(reference.values()), [batch_counts.get(label, 0) for label in labels]]
    if unseen:
        labels.append(UNSEEN)
        rows[0].append(0)
        rows[1].append(sum(unseen.values()))
    table = np.array(rows, dtype=np.float64)
    nonzero = table.sum(axis=0) > 0
    dropped = [label for label, keep in zip(labels, nonzero, strict=True) if not keep]
    labels = [label for label, keep in zip(labels, nonzero, strict=True) if keep]
    labels, table, absorbed = merge_sparse(labels, table[:, nonzero])
    details: dict[str, object] = {
        "categories": labels,
        "reference_counts": [int(v) for v in table[0]],
        "batch_counts": [int(v) for v in table[1]],
        "unseen": unseen,
        "merged_into_other": absorbed,
        "dropped_empty": dropped,
    }
    n_reference = int(sum(reference.values()))
    if len(labels) < 2:
        details["note"] = (
            f"only one category ({labels[0]!r}) is present in reference and batch together; "
            "nothing to compare"
        )
        details["dof"] = 0
        return TestResult("chi2", 0.0, 1.0, n_reference, n_batch, details)
    result = stats.chi2_contingency(table)
    details["dof"] = int(result.dof)
    return TestResult(
        "chi2", float(result.statistic), float(result.pvalue), n_reference, n_batch, details
    )
