"""Calibration and power of the whole drift check, on seeded synthetic data."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from driftloop.drift import JOINT_FEATURE, DriftOptions, build_profile, detect_drift


def _frame(rng: np.random.Generator, n: int, numeric: int, shift: float = 0.0) -> pd.DataFrame:
    data = {f"x{i}": rng.normal(size=n) for i in range(numeric)}
    data["x0"] = data["x0"] + shift
    data["c"] = rng.choice(["a", "b", "c"], size=n, p=[0.5, 0.3, 0.2])
    return pd.DataFrame(data)


def test_false_alarm_rate_is_at_most_alpha_over_500_trials() -> None:
    """Same distribution on both sides, 500 trials: dataset-level alarms <= alpha + 3 sd."""
    trials, alpha = 500, 0.05
    rng = np.random.default_rng(2024)
    alarms = uncorrected = 0
    for _ in range(trials):
        profile = build_profile(_frame(rng, 200, 5), [f"x{i}" for i in range(5)], ["c"])
        report = detect_drift(
            profile,
            _frame(rng, 200, 5),
            DriftOptions(alpha=alpha, effect_size_floor=0.0, workers=1),
        )
        alarms += report.drift
        uncorrected += any(p <= alpha for p in report.p_values.values())
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials)
    assert alarms / trials <= bound, f"{alarms} false alarms in {trials} trials"
    assert uncorrected / trials > bound  # six uncorrected tests alarm far more often


def test_mean_shift_of_a_fifth_sd_in_one_of_20_features_at_5000_rows() -> None:
    trials, rng = 20, np.random.default_rng(7)
    names = [f"x{i}" for i in range(20)]
    profile = build_profile(_frame(rng, 5000, 20), names, ["c"])
    hits = 0
    for _ in range(trials):
        report = detect_drift(profile, _frame(rng, 5000, 20, shift=0.2))
        hits += report.drifted_features == ["x0"]
    assert hits / trials >= 0.95, hits
    quiet = detect_drift(profile, _frame(rng, 5000, 20))
    assert not quiet.drift


def test_new_category_at_five_percent_is_detected() -> None:
    trials, rng = 40, np.random.default_rng(8)
    profile = build_profile(_frame(rng, 5000, 2), ["x0", "x1"], ["c"])
    hits = 0
    for _ in range(trials):
        batch = _frame(rng, 2000, 2)
        rows = rng.choice(len(batch), size=100, replace=False)
        batch.loc[rows, "c"] = "new"
        report = detect_drift(profile, batch)
        hits += report.drifted_features == ["c"]
        assert report.features[2].details["unseen"] == {"new": 100}
    assert hits / trials >= 0.95, hits


def test_correlation_flip_with_equal_marginals_is_caught_by_the_joint_test() -> None:
    trials, rng = 20, np.random.default_rng(9)

    def correlated(n: int, rho: float) -> pd.DataFrame:
        frame = _frame(rng, n, 5)
        frame["x1"] = rho * frame["x0"] + math.sqrt(1 - rho**2) * frame["x1"]
        return frame

    names = [f"x{i}" for i in range(5)]
    profile = build_profile(correlated(4000, 0.6), names, ["c"])
    hits = 0
    for _ in range(trials):
        report = detect_drift(
            profile, correlated(2000, -0.6), DriftOptions(multivariate="mmd", workers=1)
        )
        hits += report.drifted_features == [JOINT_FEATURE]
    assert hits / trials >= 0.95, hits
    same = detect_drift(profile, correlated(2000, 0.6), DriftOptions(multivariate="mmd", workers=1))
    assert not same.drift


def test_dataset_false_alarm_rate_with_the_joint_test_is_at_most_alpha() -> None:
    """The whole check with the MMD test switched on: Holm keeps the dataset-level rate."""
    trials, alpha = 500, 0.05
    rng = np.random.default_rng(2026)
    names = [f"x{i}" for i in range(3)]
    alarms = joint_alarms = 0
    for trial in range(trials):
        profile = build_profile(_frame(rng, 150, 3), names, ["c"], joint_rows=150)
        report = detect_drift(
            profile,
            _frame(rng, 150, 3),
            DriftOptions(
                alpha=alpha,
                effect_size_floor=0.0,
                multivariate="mmd",
                permutations=199,
                workers=1,
                seed=trial,
            ),
        )
        alarms += report.drift
        joint_alarms += report.p_values[JOINT_FEATURE] <= alpha
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials)
    assert alarms / trials <= bound, f"{alarms} false alarms in {trials} trials"
    assert joint_alarms / trials <= bound, f"{joint_alarms} joint-test alarms in {trials} trials"
    assert joint_alarms > 0  # a permutation test at level alpha does reject sometimes under H0
