"""One feature's test: the chosen statistical test, its effect size and missing counts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftloop.drift.ad import ad_test
from driftloop.drift.bins import bin_counts, quantile_edges, sorted_bin_counts
from driftloop.drift.categories import MISSING, category_table, count_categories
from driftloop.drift.chi2 import chi2_from_counts
from driftloop.drift.coerce import as_float_array
from driftloop.drift.cvm import cvm_test
from driftloop.drift.js import js_categorical, js_distance, js_numeric
from driftloop.drift.ks import ks_test
from driftloop.drift.psi import psi_categorical, psi_numeric
from driftloop.drift.result import TestResult
from driftloop.drift.wasserstein import wasserstein_effect, wasserstein_test

__all__ = [
    "CATEGORICAL_TESTS",
    "NUMERIC_TESTS",
    "SUMMARY_VALUES",
    "TOP",
    "Outcome",
    "categorical_outcome",
    "numeric_outcome",
    "top_categories",
]

TOP = 5
"""How many of a categorical feature's labels its summary lists (the most frequent ones)."""
SUMMARY_VALUES = 10_000
"""The report's mean and standard deviation of a column read at most this many evenly spaced
values (exact below it; of a sorted sample, a stratified estimate): a summary for the eye
that costs nothing next to the test itself."""

_Numeric = Callable[
    [NDArray[np.float64], NDArray[np.float64], tuple[float, float], int], TestResult
]
NUMERIC_TESTS: dict[str, _Numeric] = {
    "ks": lambda ref, bat, band, seed: ks_test(ref, bat, band),
    "ad": lambda ref, bat, band, seed: ad_test(ref, bat),
    "cvm": lambda ref, bat, band, seed: cvm_test(ref, bat),
    "wasserstein": lambda ref, bat, band, seed: wasserstein_test(ref, bat, seed=seed),
    "psi": lambda ref, bat, band, seed: psi_numeric(ref, bat, seed=seed),
    "js": lambda ref, bat, band, seed: js_numeric(ref, bat, seed=seed),
}
"""Numeric tests by config name; the effect size is always the normalised Wasserstein distance."""

_Categorical = Callable[[Mapping[str, int], Mapping[str, int], int], TestResult]
CATEGORICAL_TESTS: dict[str, _Categorical] = {
    "chi2": lambda ref, bat, seed: chi2_from_counts(ref, bat),
    "psi": lambda ref, bat, seed: psi_categorical(ref, bat, seed=seed),
    "js": lambda ref, bat, seed: js_categorical(ref, bat, seed=seed),
}
"""Categorical tests by config name; the effect size is always the Jensen-Shannon distance."""


@dataclass(frozen=True)
class Outcome:
    """A feature's test result with its effect size and missing counts on both sides."""

    result: TestResult
    effect_size: float
    batch_missing: int
    batch_total: int
    reference_missing: int
    reference_total: int
    values: NDArray[np.float64] | None = None


def numeric_outcome(
    reference: NDArray[np.float64],
    missing: tuple[int, int],
    column: pd.Series,
    test: str,
    band: tuple[float, float],
    seed: int,
    reference_bins: tuple[NDArray[np.float64], NDArray[np.int64]] | None = None,
) -> Outcome:
    """Run ``test`` on the finite values of ``column`` (all missing: drifted, statistic 1).

    ``reference_bins`` (the profile's ``reference_bins[feature]``) saves recomputing the
    reference histogram.
    """
    values = as_float_array(column, f"batch column {column.name!r}")
    finite_mask = np.isfinite(values)
    n_missing = int(values.size - np.count_nonzero(finite_mask))
    rates = {
        "reference_missing_rate": missing[0] / missing[1] if missing[1] else 0.0,
        "batch_missing_rate": n_missing / values.size,
    }
    if n_missing == values.size:
        note = (
            f"all {values.size} batch values are missing or non-finite, so no {test} test "
            "could run; the feature is marked drifted. Check the upstream data feed."
        )
        result = TestResult(
            "all-missing", 1.0, 0.0, int(reference.size), 0, {**rates, "note": note}
        )
        return Outcome(result, 1.0, n_missing, int(values.size), *missing, values)
    finite = values if n_missing == 0 else values[finite_mask]
    is_sorted = test == "ks"  # KS sorts the batch anyway; sorted, the histogram is cheap
    if is_sorted:
        finite = np.sort(finite)
    result = NUMERIC_TESTS[test](reference, finite, band, seed)
    effect = result.details.get("effect_size")
    if effect is None:
        effect = wasserstein_effect(reference, finite)
    if reference_bins is None:
        edges = quantile_edges(reference)
        reference_bins = (edges, bin_counts(reference, edges))
    edges, reference_counts = reference_bins
    batch_counts = sorted_bin_counts(finite, edges) if is_sorted else bin_counts(finite, edges)
    details = {
        **result.details,
        **rates,
        "dropped_non_finite": n_missing,
        "effect_size": float(effect),
        "summary": _summary(reference, finite),
        "histogram": {
            "edges": edges.tolist(),
            "reference_counts": reference_counts.tolist(),
            "batch_counts": batch_counts.tolist(),
        },
    }
    result = TestResult(
        result.test, result.statistic, result.p_value, result.n_reference, result.n_batch, details
    )
    return Outcome(result, float(effect), n_missing, int(values.size), *missing, values)


def _spread(values: NDArray[np.float64]) -> tuple[float | None, float | None]:
    """Mean and standard deviation of at most SUMMARY_VALUES evenly spaced ``values``."""
    if values.size == 0:
        return None, None
    stride = -(-values.size // SUMMARY_VALUES)
    sample = values[stride // 2 :: stride]  # a view, each stratum's middle value of a sorted one
    return float(np.mean(sample)), float(np.std(sample))


def _summary(reference: NDArray[np.float64], batch: NDArray[np.float64]) -> dict[str, float | None]:
    """Mean and standard deviation of the finite reference and batch values, for the report."""
    (ref_mean, ref_std), (bat_mean, bat_std) = _spread(reference), _spread(batch)
    return {
        "reference_mean": ref_mean,
        "reference_std": ref_std,
        "batch_mean": bat_mean,
        "batch_std": bat_std,
    }


def top_categories(
    reference_counts: Mapping[str, int], batch_counts: Mapping[str, int], top: int = TOP
) -> list[list[object]]:
    """The ``top`` most frequent labels of both sides: [label, reference share, batch share].

    Examples
    --------
    >>> top_categories({"a": 3, "b": 1}, {"b": 2, "c": 2}, top=2)
    [['a', 0.75, 0.0], ['b', 0.25, 0.5]]
    """
    ref_total = sum(reference_counts.values()) or 1
    bat_total = sum(batch_counts.values()) or 1
    shares = {
        label: (reference_counts.get(label, 0) / ref_total, batch_counts.get(label, 0) / bat_total)
        for label in {*reference_counts, *batch_counts}
    }
    ranked = sorted(shares.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    return [[label, ref, bat] for label, (ref, bat) in ranked[:top]]


def categorical_outcome(
    reference_counts: Mapping[str, int], column: pd.Series, test: str, seed: int
) -> Outcome:
    """Run ``test`` on the label counts of ``column``; effect size: JS distance of the shares."""
    counts = count_categories(column)
    _, ref, bat, unseen = category_table(reference_counts, counts)
    effect = float(js_distance(ref, bat))
    result = CATEGORICAL_TESTS[test](reference_counts, counts, seed)
    details = {
        **result.details,
        "unseen": unseen,
        "effect_size": effect,
        "top_categories": top_categories(reference_counts, counts),
    }
    result = TestResult(
        result.test, result.statistic, result.p_value, result.n_reference, result.n_batch, details
    )
    n_ref = int(sum(reference_counts.values()))
    return Outcome(
        result,
        effect,
        int(counts.get(MISSING, 0)),
        len(column),
        int(reference_counts.get(MISSING, 0)),
        n_ref,
    )
