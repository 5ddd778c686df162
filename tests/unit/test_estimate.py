"""Unit tests for the label-free accuracy estimate, the concept verdict and the at-risk trigger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftloop.core.config import config_from_dict
from driftloop.core.errors import ConfigError
from driftloop.drift import (
    ESTIMATE_FEATURE,
    Calibration,
    DriftError,
    DriftReport,
    build_profile,
    detect_drift,
    estimate_accuracy,
    estimate_test,
    fit_calibration,
    report_html,
    report_markdown,
)
from driftloop.drift.signals import verdict
from driftloop.models.concept import concept_verdict
from driftloop.models.trigger import at_risk_trigger


def _calibrated(
    rng: np.random.Generator, n: int, low: float, lift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Binary probabilities with top confidence uniform in [low, 1), right with that chance
    (minus `lift`: a rule that no longer holds)."""
    conf = rng.uniform(low, 1.0, n)
    proba = np.column_stack([conf, 1.0 - conf])
    correct = rng.random(n) < np.clip(conf - lift, 0.0, 1.0)
    return proba, correct


def test_pool_adjacent_violators_averages_the_blocks_that_break_monotonicity() -> None:
    conf = [0.55, 0.6, 0.7, 0.8, 0.9, 0.95]
    proba = np.column_stack([conf, 1.0 - np.asarray(conf)])
    cal = fit_calibration(proba, [1, 0, 0, 1, 0, 1])
    assert cal.confidence == (0.55, 0.6, 0.7, 0.8, 0.9, 0.95)
    assert cal.accuracy == pytest.approx((1 / 3, 1 / 3, 1 / 3, 0.5, 0.5, 1.0))
    assert cal.rows == 6 and cal.reference == 0.5
    assert Calibration.from_dict(cal.to_dict()) == cal


def test_ties_in_confidence_share_one_knot() -> None:
    cal = fit_calibration([[0.7, 0.3], [0.3, 0.7], [0.9, 0.1]], [1, 0, 1])
    assert cal.confidence == (0.7, 0.9) and cal.accuracy == (0.5, 1.0)


def test_the_estimate_follows_a_covariate_shift_within_its_band() -> None:
    rng = np.random.default_rng(0)
    cal = fit_calibration(*_calibrated(rng, 4000, 0.5))
    assert cal.reference == pytest.approx(0.75, abs=0.01)
    proba, correct = _calibrated(rng, 1000, 0.8)  # rows where the model is surer
    est = estimate_accuracy(cal, proba)
    realized = float(correct.mean())
    assert abs(est.value - realized) < 0.01 and est.holds(realized)
    assert est.low < realized < est.high and est.high - est.low < 0.07
    assert est.rows == 1000 and est.reference_rows == 4000


def test_a_concept_change_falls_below_the_band_and_is_called_one() -> None:
    rng = np.random.default_rng(1)
    cal = fit_calibration(*_calibrated(rng, 4000, 0.5))
    proba, correct = _calibrated(rng, 1000, 0.5, lift=0.3)  # as sure as before, and wrong
    est = estimate_accuracy(cal, proba)
    realized = float(correct.mean())
    assert not est.holds(realized) and realized < est.low - 0.2
    v = concept_verdict(est.value, (est.low, est.high), realized)
    assert v.changed and v.reason.startswith("concept change: realized accuracy")
    same = concept_verdict(est.value, (est.low, est.high), est.value)
    assert not same.changed and "within the estimate" in same.reason
    above = concept_verdict(est.value, (est.low, est.high), 1.0)
    assert not above.changed and "above the estimate" in above.reason


def test_bad_inputs_name_what_is_wrong() -> None:
    with pytest.raises(DriftError, match="one correctness per probability row, got 1 for 2"):
        fit_calibration([[0.6, 0.4], [0.2, 0.8]], [1])
    cal = fit_calibration([[0.6, 0.4], [0.2, 0.8]], [1, 0])
    with pytest.raises(DriftError, match="band level must be between 0 and 1, got 1.5"):
        estimate_accuracy(cal, [[0.6, 0.4]], level=1.5)
    with pytest.raises(DriftError, match="empty batch"):
        estimate_accuracy(cal, np.zeros((0, 2)))


def _estimate_report(drop: bool) -> DriftReport:
    rng = np.random.default_rng(2)
    ref = pd.DataFrame({"x": np.random.default_rng(3).normal(size=500)})
    profile = build_profile(ref, numeric=["x"], categorical=[])
    cal = fit_calibration(*_calibrated(rng, 4000, 0.5))
    proba, _ = _calibrated(rng, 500, 0.5)
    if drop:
        proba = np.column_stack([np.full(500, 0.55), np.full(500, 0.45)])
    extra = {ESTIMATE_FEATURE: estimate_test(estimate_accuracy(cal, proba))}
    return detect_drift(profile, pd.DataFrame({"x": rng.normal(size=500)}), extra=extra)


def test_an_estimated_drop_is_a_signal_that_alerts_and_marks_at_risk_only_when_asked() -> None:
    quiet, dropped = _estimate_report(False), _estimate_report(True)
    assert not quiet.drift and at_risk_trigger(quiet, False, "estimate") is None
    assert dropped.drifted_features == [ESTIMATE_FEATURE]
    assert verdict(dropped) == "No feature drifted (of 1); model signals: estimated accuracy drop"
    marked = at_risk_trigger(dropped, False, "estimate")
    assert marked is not None and marked.action == "at-risk" and not marked.retrain
    assert marked.reason.startswith("estimated accuracy 0.5")
    assert at_risk_trigger(dropped, False, "labels") is None  # the default: only labels act
    assert at_risk_trigger(dropped, True, "estimate") is None  # labelled: the gate decides
    assert "estimated, no labels" in report_html(dropped, "b.csv")  # its chart, no labels
    assert "estimated accuracy drop" in report_markdown(dropped)


def test_labels_trigger_accepts_only_its_two_modes(tmp_path: Path) -> None:
    base = {"model": {"target": "y"}, "features": {"numeric": ["x"]}}
    cfg = config_from_dict({**base, "labels": {"trigger": "estimate"}}, tmp_path / "d.toml")
    assert cfg.labels.trigger == "estimate"
    assert config_from_dict(base, tmp_path / "d.toml").labels.trigger == "labels"
    with pytest.raises(ConfigError, match=r"\[labels\] trigger: Input should be 'labels' or"):
        config_from_dict({**base, "labels": {"trigger": "soon"}}, tmp_path / "d.toml")
