"""Unit tests for the statistical tests (KS, chi-squared) and multiple-testing corrections."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from driftloop.drift import (
    CORRECTIONS,
    DriftError,
    benjamini_hochberg,
    bonferroni,
    chi2_test,
    correct,
    holm,
    ks_test,
)
from driftloop.drift.chi2 import merge_sparse


def _series(counts: dict[str, int]) -> pd.Series:
    return pd.Series([label for label, n in counts.items() for _ in range(n)], dtype=object)


# --- Kolmogorov-Smirnov -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_ref", "n_batch", "shift"),
    [(40, 30, 0.0), (300, 120, 0.3), (5_000, 500, 0.0), (20_000, 2_000, 0.1)],
)
def test_ks_equals_scipy_exactly(n_ref: int, n_batch: int, shift: float) -> None:
    rng = np.random.default_rng(n_ref + n_batch)
    reference = np.sort(rng.normal(size=n_ref))
    batch = rng.normal(loc=shift, size=n_batch)
    expected = stats.ks_2samp(reference, batch)
    result = ks_test(reference, batch)
    assert result.test == "ks"
    assert result.statistic == float(expected.statistic)
    assert result.p_value == float(expected.pvalue)
    assert (result.n_reference, result.n_batch) == (n_ref, n_batch)


def test_ks_drops_non_finite_batch_values_before_testing() -> None:
    rng = np.random.default_rng(1)
    reference = np.sort(rng.normal(size=200))
    finite = rng.normal(size=60)
    batch = pd.Series(np.concatenate([finite, [np.nan, np.inf, -np.inf]]))
    expected = stats.ks_2samp(reference, finite)
    result = ks_test(reference, batch)
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)
    assert result.n_batch == 60
    assert result.details["dropped_non_finite"] == 3


def test_ks_detects_a_shift() -> None:
    rng = np.random.default_rng(2)
    result = ks_test(np.sort(rng.normal(size=2_000)), rng.normal(loc=1.0, size=300))
    assert result.p_value < 1e-20
    assert result.details["batch_mean"] > result.details["reference_mean"]


def test_ks_without_finite_values_raises() -> None:
    with pytest.raises(DriftError, match="finite batch value"):
        ks_test(np.array([1.0, 2.0]), [np.nan, np.inf])
    with pytest.raises(DriftError, match="finite reference value"):
        ks_test(np.array([], dtype=np.float64), [1.0])


def test_ks_rejects_string_batch() -> None:
    with pytest.raises(DriftError, match="non-numeric"):
        ks_test(np.array([1.0, 2.0]), pd.Series(["1.0", "2.0"]))


# --- chi-squared --------------------------------------------------------------------------


def test_chi2_equals_scipy_on_a_plain_table() -> None:
    reference = {"a": 300, "b": 200, "c": 100}
    batch = _series({"c": 40, "a": 50, "b": 60})
    expected = stats.chi2_contingency(np.array([[300, 200, 100], [50, 60, 40]]))
    result = chi2_test(reference, batch)
    assert result.test == "chi2"
    assert result.statistic == float(expected.statistic)
    assert result.p_value == float(expected.pvalue)
    assert (result.n_reference, result.n_batch) == (600, 150)
    assert result.details["categories"] == ["a", "b", "c"]
    assert result.details["dof"] == 2
    assert result.details["unseen"] == {}


def test_chi2_two_columns_uses_scipy_default_continuity_correction() -> None:
    expected = stats.chi2_contingency(np.array([[120, 80], [30, 45]]))
    result = chi2_test({"yes": 120, "no": 80}, _series({"yes": 30, "no": 45}))
    assert result.details["categories"] == ["yes", "no"]
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)
    assert result.details["dof"] == 1


def test_chi2_converts_batch_values_with_str_and_counts_missing() -> None:
    reference = {"1": 100, "2": 100, "__missing__": 20}
    batch = pd.Series([1] * 30 + ["2"] * 25 + [None] * 3 + [float("nan")] * 4, dtype=object)
    expected = stats.chi2_contingency(np.array([[100, 100, 20], [30, 25, 7]]))
    result = chi2_test(reference, batch)
    assert result.details["batch_counts"] == [30, 25, 7]
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)


def test_chi2_pools_unseen_categories() -> None:
    reference = {"a": 100, "b": 100}
    batch = _series({"a": 40, "b": 40, "x": 12, "y": 8})
    expected = stats.chi2_contingency(np.array([[100, 100, 0], [40, 40, 20]]))
    result = chi2_test(reference, batch)
    assert result.details["categories"] == ["a", "b", "__unseen__"]
    assert result.details["unseen"] == {"x": 12, "y": 8}
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)
    assert result.p_value < 1e-6


def test_chi2_merges_sparse_categories_into_other() -> None:
    reference = {"a": 500, "b": 500, "c": 20, "d": 20}
    batch = _series({"a": 100, "b": 100, "c": 3, "d": 4})
    expected = stats.chi2_contingency(np.array([[500, 500, 40], [100, 100, 7]]))
    result = chi2_test(reference, batch)
    assert result.details["categories"] == ["a", "b", "__other__"]
    assert result.details["reference_counts"] == [500, 500, 40]
    assert result.details["batch_counts"] == [100, 100, 7]
    assert result.details["merged_into_other"] == ["c", "d"]
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)


def test_merge_sparse_absorbs_smallest_column_when_other_stays_sparse() -> None:
    table = np.array([[50.0, 40.0, 2.0, 1.0], [45.0, 50.0, 1.0, 3.0]])
    labels, merged, absorbed = merge_sparse(["a", "b", "c", "d"], table)
    assert labels == ["a", "__other__"]
    assert merged.tolist() == [[50.0, 43.0], [45.0, 54.0]]
    assert absorbed == ["c", "d", "b"]


def test_merge_sparse_keeps_two_columns() -> None:
    labels, merged, absorbed = merge_sparse(["a", "b", "c"], np.array([[1.0, 2.0, 6.0], [1, 1, 1]]))
    assert labels == ["c", "__other__"]
    assert merged.tolist() == [[6.0, 3.0], [1.0, 2.0]]
    assert absorbed == ["a", "b"]


def test_merge_sparse_leaves_dense_tables_alone() -> None:
    table = np.array([[30.0, 40.0, 50.0], [20.0, 25.0, 30.0]])
    labels, merged, absorbed = merge_sparse(["a", "b", "c"], table)
    assert (labels, merged.tolist(), absorbed) == (["a", "b", "c"], table.tolist(), [])


def test_chi2_drops_all_zero_and_handles_empty_reference_categories() -> None:
    reference = {"a": 100, "b": 100, "gone": 0, "new": 0}
    batch = _series({"a": 30, "b": 30, "new": 20})
    expected = stats.chi2_contingency(np.array([[100, 100, 0], [30, 30, 20]]))
    result = chi2_test(reference, batch)
    assert result.details["dropped_empty"] == ["gone"]
    assert result.details["categories"] == ["a", "b", "new"]
    assert result.details["unseen"] == {}
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)


def test_chi2_single_category_returns_p_one() -> None:
    result = chi2_test({"only": 250}, _series({"only": 40}))
    assert (result.statistic, result.p_value) == (0.0, 1.0)
    assert "nothing to compare" in result.details["note"]
    assert result.details["dof"] == 0


def test_chi2_batch_entirely_unseen_does_not_crash() -> None:
    result = chi2_test({"a": 100}, _series({"z": 50}))
    assert result.details["categories"] == ["a", "__unseen__"]
    assert result.details["unseen"] == {"z": 50}
    assert result.p_value < 1e-20


def test_chi2_rejects_empty_batch_and_empty_reference() -> None:
    with pytest.raises(DriftError, match="non-empty batch"):
        chi2_test({"a": 10}, pd.Series([], dtype=object))
    with pytest.raises(DriftError, match="all zero"):
        chi2_test({"a": 0}, _series({"a": 3}))


# --- corrections --------------------------------------------------------------------------

VECTORS = {
    "step-down stops": {"a": 0.01, "b": 0.02, "c": 0.03, "d": 0.5},
    "holm beats bonferroni": {"a": 0.012, "b": 0.02, "c": 0.04},
    "bh steps up": {"a": 0.001, "b": 0.03, "c": 0.035, "d": 0.5},
}
# Hand-computed at alpha = 0.05 (thresholds: bonferroni alpha/m; holm alpha/(m-k+1) for the
# k-th smallest; BH k*alpha/m with the largest passing k).
EXPECTED = {
    "bonferroni": {
        "step-down stops": {"a"},
        "holm beats bonferroni": {"a"},
        "bh steps up": {"a"},
    },
    "holm": {
        "step-down stops": {"a"},
        "holm beats bonferroni": {"a", "b", "c"},
        "bh steps up": {"a"},
    },
    "benjamini_hochberg": {
        "step-down stops": {"a", "b", "c"},
        "holm beats bonferroni": {"a", "b", "c"},
        "bh steps up": {"a", "b", "c"},
    },
}


@pytest.mark.parametrize("method", sorted(EXPECTED))
@pytest.mark.parametrize("vector", sorted(VECTORS))
def test_corrections_match_hand_computed_results(method: str, vector: str) -> None:
    p_values = VECTORS[vector]
    decisions = correct(p_values, 0.05, method=method)
    assert list(decisions) == list(p_values)  # input order is kept
    assert {name for name, hit in decisions.items() if hit} == EXPECTED[method][vector]
    assert CORRECTIONS[method](p_values, 0.05) == decisions


def test_named_functions_are_the_registered_corrections() -> None:
    assert {
        "bonferroni": bonferroni,
        "holm": holm,
        "benjamini_hochberg": benjamini_hochberg,
    } == CORRECTIONS


def test_bonferroni_boundary_is_inclusive() -> None:
    assert bonferroni({"a": 0.0125, "b": 0.0126}, 0.025) == {"a": True, "b": False}


def test_holm_and_bh_treat_ties_alike() -> None:
    p_values = {"a": 0.015, "b": 0.015, "c": 0.9}
    assert holm(p_values, 0.05) == {"a": True, "b": True, "c": False}
    assert benjamini_hochberg(p_values, 0.05) == {"a": True, "b": True, "c": False}


@pytest.mark.parametrize("method", sorted(CORRECTIONS))
def test_corrections_accept_no_tests(method: str) -> None:
    assert correct({}, 0.05, method) == {}


@pytest.mark.parametrize(
    "spelling", ["benjamini-hochberg", "Benjamini_Hochberg", " BENJAMINI-HOCHBERG "]
)
def test_method_names_ignore_case_and_hyphens(spelling: str) -> None:
    p_values = VECTORS["bh steps up"]
    assert correct(p_values, 0.05, spelling) == benjamini_hochberg(p_values, 0.05)


def test_unknown_method_lists_valid_names() -> None:
    with pytest.raises(DriftError, match="'bonferoni'.*benjamini_hochberg.*bonferroni.*holm"):
        correct({"a": 0.01}, 0.05, method="bonferoni")


@pytest.mark.parametrize("alpha", [0.0, 1.0, -0.1, 1.5, math.nan, "0.05", True])
def test_alpha_must_lie_strictly_between_zero_and_one(alpha) -> None:
    with pytest.raises(DriftError, match="alpha"):
        bonferroni({"a": 0.01}, alpha)


@pytest.mark.parametrize("p_value", [-0.1, 1.1, math.nan])
def test_invalid_p_values_name_the_feature(p_value: float) -> None:
    with pytest.raises(DriftError, match="'feat'"):
        holm({"feat": p_value}, 0.05)
