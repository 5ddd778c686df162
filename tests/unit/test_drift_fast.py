"""The fast paths equal scipy: statistics bit for bit, p-values within the documented bound."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from driftloop.drift import ad_test, cvm_test, js_distance, ks_test
from driftloop.drift.ecdf import ks_statistic, merge, wasserstein_distance
from driftloop.drift.ks import FAST_MIN_EN, FAST_REL_ERROR


@pytest.mark.parametrize(
    ("n_ref", "n_batch", "ties"), [(20_000, 30_000, False), (50_000, 15_000, True)]
)
def test_merged_statistics_equal_scipy_bit_for_bit(n_ref: int, n_batch: int, ties: bool) -> None:
    rng = np.random.default_rng(n_ref)
    reference = np.sort(rng.normal(size=n_ref))
    batch = rng.normal(0.02, 1.0, size=n_batch)
    if ties:
        reference, batch = np.sort(np.round(reference, 1)), np.round(batch, 1)
    m = merge(reference, batch)
    assert ks_statistic(m)[0] == stats.ks_2samp(reference, batch).statistic
    assert wasserstein_distance(m) == stats.wasserstein_distance(reference, batch)


def test_ks_p_value_is_scipys_or_within_the_bound_with_identical_decisions() -> None:
    rng = np.random.default_rng(3)
    reference = np.sort(rng.normal(size=40_000))
    for shift in (0.0, 0.01, 0.02, 0.03, 0.05):
        batch = rng.normal(shift, 1.0, size=40_000)
        expected = stats.ks_2samp(reference, batch)
        fast = ks_test(reference, batch, exact_band=(0.0, 0.0))
        assert fast.statistic == expected.statistic
        assert fast.details["p_value_method"] == "asymptotic-kolmogorov"
        if expected.pvalue > 1e-10:
            assert abs(fast.p_value - expected.pvalue) <= FAST_REL_ERROR * expected.pvalue
        banded = ks_test(reference, batch, exact_band=(0.001, 0.1))
        if 0.001 <= fast.p_value <= 0.1:  # near a threshold: scipy's own p-value, to 1e-9
            assert banded.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=0)
        for alpha in (0.05, 0.01):
            assert (banded.p_value <= alpha) == (expected.pvalue <= alpha)


@pytest.mark.parametrize("en", [FAST_MIN_EN, 50_000])
def test_asymptotic_kolmogorov_relative_error_bound(en: int) -> None:
    worst = 0.0
    for p in np.logspace(-10, np.log10(0.999), 12):
        d = stats.kstwobign.isf(p) / np.sqrt(en)
        exact = stats.kstwo.sf(d, en)
        worst = max(worst, abs(stats.kstwobign.sf(d * np.sqrt(en)) - exact) / exact)
    assert worst <= FAST_REL_ERROR


def test_small_samples_use_scipys_exact_ks_and_other_tests_are_scipys() -> None:
    rng = np.random.default_rng(4)
    reference, batch = np.sort(rng.normal(size=300)), rng.normal(0.3, 1.0, size=200)
    expected = stats.ks_2samp(reference, batch)
    got = ks_test(reference, batch)
    assert (got.statistic, got.p_value) == (expected.statistic, expected.pvalue)
    cvm = stats.cramervonmises_2samp(reference, batch)
    assert (cvm_test(reference, batch).statistic, cvm_test(reference, batch).p_value) == (
        cvm.statistic,
        cvm.pvalue,
    )
    assert ad_test(reference, batch).statistic == stats.anderson_ksamp([reference, batch]).statistic
    counts_a, counts_b = np.array([5, 3, 2]), np.array([1, 1, 8])
    assert float(js_distance(counts_a, counts_b)) == float(
        jensenshannon(counts_a, counts_b, base=2)
    )


@pytest.mark.parametrize("ties", [False, True])
def test_fused_ks_and_wasserstein_equal_the_separate_ones_and_scipy(ties: bool) -> None:
    from driftloop.drift.ecdf import ks_and_wasserstein

    rng = np.random.default_rng(7)
    for n_ref, n_batch, shift in [(30_000, 20_000, 0.0), (20_000, 25_000, 0.03), (5, 3, 1.0)]:
        reference = np.sort(rng.normal(size=n_ref))
        batch = rng.normal(shift, 1.0, size=n_batch)
        if ties:
            reference, batch = np.sort(np.round(reference, 1)), np.round(batch, 1)
        m = merge(reference, batch)
        statistic, location, sign, distance = ks_and_wasserstein(m)
        assert (statistic, location, sign) == ks_statistic(m)
        assert distance == wasserstein_distance(m)
        if n_ref > 10_000:  # scipy's exact method (small samples) rounds its statistic apart
            assert statistic == stats.ks_2samp(reference, batch).statistic
        assert distance == stats.wasserstein_distance(reference, batch)
    below = ks_and_wasserstein(merge(np.arange(10.0), np.arange(20.0, 25.0)))
    assert below[:3] == ks_statistic(merge(np.arange(10.0), np.arange(20.0, 25.0)))


def test_sorted_bin_counts_and_profile_bins_equal_the_plain_ones() -> None:
    import pandas as pd

    from driftloop.drift import build_profile
    from driftloop.drift.bins import bin_counts, quantile_edges, sorted_bin_counts

    rng = np.random.default_rng(8)
    values = np.round(rng.normal(size=5000), 1)
    edges = quantile_edges(np.sort(values))
    assert sorted_bin_counts(np.sort(values), edges).tolist() == bin_counts(values, edges).tolist()
    profile = build_profile(pd.DataFrame({"x": values}), ["x"], [])
    got_edges, got_counts = profile.reference_bins["x"]
    assert got_edges.tolist() == quantile_edges(profile.numeric["x"]).tolist()
    assert got_counts.tolist() == bin_counts(profile.numeric["x"], got_edges).tolist()


def test_fast_p_values_near_a_decision_are_settled_with_scipys() -> None:
    from driftloop.drift.correction import holm
    from driftloop.drift.ks import FAST_METHOD, ks_p_value
    from driftloop.drift.result import TestResult
    from driftloop.drift.settle import Tested, settle_fast_p_values

    n = 40_000
    en = n * n / (2 * n)

    def fast(name: str, p: float) -> Tested:
        d = float(stats.kstwobign.isf(p) / np.sqrt(en))
        result = TestResult("ks", d, p, n, n, {"p_value_method": FAST_METHOD})
        return Tested(name, "numeric", result, 0, 1.0, 0.05)

    # "near" sits 1% under its Holm threshold 0.05 / 2 (rank 2); "far" is far above any.
    tested = [fast("near", 0.99 * 0.05 / 2), fast("far", 0.6), fast("tiny", 1e-30)]
    settle_fast_p_values(tested, holm, 0.05)
    methods = [t.result.details["p_value_method"] for t in tested]
    assert methods == ["scipy-kstwo", FAST_METHOD, FAST_METHOD]
    assert tested[0].result.p_value == ks_p_value(tested[0].result.statistic, n, n)
    assert tested[1].result.p_value == 0.6


def test_one_blas_thread_restores_the_original_limit_after_nested_use() -> None:
    from threadpoolctl import threadpool_info

    from driftloop.drift.blas import one_blas_thread

    def blas_threads() -> list[int]:
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with one_blas_thread():
        with one_blas_thread():
            assert set(blas_threads()) == {1}
        assert set(blas_threads()) == {1}  # the outer block still holds the limit
    assert blas_threads() == before


def test_wasserstein_in_one_blas_thread_equals_scipys_in_one_blas_thread() -> None:
    from threadpoolctl import threadpool_limits

    from driftloop.drift.blas import one_blas_thread
    from driftloop.drift.ecdf import ks_and_wasserstein_sorted

    rng = np.random.default_rng(11)
    reference, batch = np.sort(rng.normal(size=60_000)), np.sort(rng.normal(0.1, 1, 50_000))
    with one_blas_thread():
        ours = ks_and_wasserstein_sorted(reference, batch, chunk=4096)[3]
    with threadpool_limits(1, "blas"):
        assert ours == stats.wasserstein_distance(reference, batch)
    assert ours == pytest.approx(stats.wasserstein_distance(reference, batch), rel=1e-13)


@pytest.mark.parametrize(
    ("n_ref", "n_batch", "shift"),
    [
        (1, 2, 0.0),
        (2, 3, 5.0),
        (3, 2, -5.0),
        (17, 6, 0.3),
        (50_001, 30_003, 0.02),
        (20_000, 25_000, -30.0),
        (20_000, 25_000, 30.0),
        (100_003, 99_998, 0.0),
    ],
)
def test_compiled_merge_equals_the_numpy_merges_and_scipy_bit_for_bit(
    n_ref: int, n_batch: int, shift: float
) -> None:
    from threadpoolctl import threadpool_limits

    from driftloop.drift import ecdf

    assert ecdf._kernel() is not None  # numba is installed: the compiled merge is the one tested
    rng = np.random.default_rng(n_ref + n_batch)
    reference = np.sort(rng.normal(size=n_ref))
    batch = np.sort(rng.normal(shift, 1.0, size=n_batch))
    with threadpool_limits(1, "blas"):
        compiled = ecdf.ks_and_wasserstein_sorted(reference, batch)
        assert compiled == ecdf.ks_and_wasserstein_blocks(reference, batch, chunk=4096)
        assert compiled == ecdf.ks_and_wasserstein(merge(reference, batch))
        scipy_ks = stats.ks_2samp(reference, batch, method="asymp")  # exact rounds apart
        assert compiled[:3] == (
            scipy_ks.statistic,
            scipy_ks.statistic_location,
            scipy_ks.statistic_sign,
        )
        assert compiled[3] == stats.wasserstein_distance(reference, batch)


def test_compiled_merge_hands_ties_to_the_plain_merge() -> None:
    from driftloop.drift.ecdf import ks_and_wasserstein, ks_and_wasserstein_sorted

    rng = np.random.default_rng(13)
    reference = np.sort(np.round(rng.normal(size=40_000), 2))
    batch = np.sort(np.round(rng.normal(0.05, 1.0, size=30_000), 2))
    expected = ks_and_wasserstein(merge(reference, batch))
    assert ks_and_wasserstein_sorted(reference, batch) == expected
    assert expected[0] == stats.ks_2samp(reference, batch).statistic
