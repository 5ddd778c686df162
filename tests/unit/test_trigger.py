"""Unit tests for the retrain decision and the two-sided performance tests behind it."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from driftloop.core.records import CHALLENGED
from driftloop.drift import (
    PERFORMANCE_FEATURE,
    DriftReport,
    FeatureDrift,
    accuracy_change_test,
    error_change_test,
)
from driftloop.models.trigger import retrain_trigger


def _report(*drifted: str) -> DriftReport:
    names = ["x1", "x2", PERFORMANCE_FEATURE]
    features = [
        FeatureDrift(
            n,
            "extra" if n == PERFORMANCE_FEATURE else "numeric",
            "ks",
            0.1,
            0.001 if n in drifted else 0.5,
            n in drifted,
            100,
            100,
            0,
        )
        for n in names
    ]
    return DriftReport(features, alpha=0.05, correction="holm", n_batch_rows=100)


def test_accuracy_change_is_two_sided_and_symmetric() -> None:
    drop = accuracy_change_test(0.80, 1_000, 0.75, 1_000)
    rise = accuracy_change_test(0.75, 1_000, 0.80, 1_000)
    assert drop.p_value == pytest.approx(rise.p_value) and drop.p_value < 0.05
    assert drop.statistic == pytest.approx(-rise.statistic) and drop.statistic < 0
    assert (drop.details["change"], rise.details["change"]) == pytest.approx((-0.05, 0.05))
    # the two-sided p is twice the one-sided tail
    assert drop.p_value == pytest.approx(2 * stats.norm.cdf(drop.statistic))
    assert accuracy_change_test(0.8, 1_000, 0.8, 500).p_value == 1.0


def test_error_change_finds_smaller_errors_as_well_as_larger() -> None:
    rng = np.random.default_rng(3)
    ref = np.abs(rng.normal(0, 1, 400))
    smaller = error_change_test(ref, np.abs(rng.normal(0, 0.6, 400)))
    larger = error_change_test(ref, np.abs(rng.normal(0, 1.6, 400)))
    same = error_change_test(ref, np.abs(rng.normal(0, 1, 400)))
    assert smaller.test == "error-change" and smaller.p_value < 1e-6
    assert smaller.details["batch_mean_error"] < smaller.details["reference_mean_error"]
    assert larger.p_value < 1e-6 and same.p_value > 0.05


def test_no_drift_no_retrain_and_nothing_to_record() -> None:
    t = retrain_trigger(_report(), True, "performance", 1, [("b0", "promoted")])
    assert (t.retrain, t.action, t.reason) == (False, "none", "")


def test_unlabelled_drift_is_recorded_not_retrained() -> None:
    t = retrain_trigger(_report("x1", PERFORMANCE_FEATURE), False, "any", 0, [])
    assert (t.retrain, t.action) == (False, "drift-unlabelled")


def test_feature_drift_alone_retrains_only_with_retrain_on_any() -> None:
    t = retrain_trigger(_report("x1", "x2"), True, "performance", 1, [])
    assert (t.retrain, t.action) == (False, "drift-no-loss")
    assert t.reason.startswith("x1, x2 drifted, but the champion's errors")
    assert retrain_trigger(_report("x1", "x2"), True, "any", 1, []).retrain


def test_performance_drift_retrains() -> None:
    recent = [("b2", "none"), ("b1", "drift-no-loss"), ("b0", "promoted")]
    assert retrain_trigger(_report(PERFORMANCE_FEATURE), True, "performance", 2, recent).retrain


@pytest.mark.parametrize("action", sorted(CHALLENGED))
def test_a_challenger_just_before_holds_the_next_one_for_the_cooldown(action: str) -> None:
    report = _report(PERFORMANCE_FEATURE)
    recent = [("batch_007", "drift-cooldown"), ("batch_006", action), ("batch_005", "none")]
    t = retrain_trigger(report, True, "performance", 2, recent)
    assert (t.retrain, t.action) == (False, "drift-cooldown")
    assert f"batch_006 ({action}) 2 batch(es) ago challenged the champion" in t.reason
    assert "[drift] retrain_cooldown = 2" in t.reason
    # one batch of cool-down has passed batch_006 by; none at all retrains at once
    assert retrain_trigger(report, True, "performance", 1, recent).retrain
    assert retrain_trigger(report, True, "performance", 0, recent).retrain
