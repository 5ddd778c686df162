"""Behaviour tests: detect_drift on seeded reference/batch frames, end to end with reports."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from driftloop.drift import (
    PERFORMANCE_FEATURE,
    DriftError,
    DriftOptions,
    DriftReport,
    ReferenceProfile,
    TestResult,
    accuracy_change_test,
    build_profile,
    detect_drift,
    load_profile,
    read_json_report,
    report_markdown,
    save_profile,
    write_json_report,
)

NUMERIC = ["x1", "x2", "x3"]
CATEGORICAL = ["c1", "c2"]
C1_LEVELS, C1_PROBS = ["a", "b", "c"], [0.5, 0.3, 0.2]
C2_LEVELS, C2_PROBS = ["u", "v"], [0.6, 0.4]


def make_frame(
    rng: np.random.Generator,
    n: int,
    shift: dict[str, float] | None = None,
    c1_probs: list[float] = C1_PROBS,
) -> pd.DataFrame:
    """Draw n rows: x1..x3 ~ N(0, 1) (+ shift), c1 and c2 categorical."""
    shift = shift or {}
    columns: dict[str, object] = {
        name: rng.normal(loc=shift.get(name, 0.0), size=n) for name in NUMERIC
    }
    columns["c1"] = rng.choice(C1_LEVELS, size=n, p=c1_probs)
    columns["c2"] = rng.choice(C2_LEVELS, size=n, p=C2_PROBS)
    return pd.DataFrame(columns)


@pytest.fixture(scope="module")
def profile() -> ReferenceProfile:
    reference = make_frame(np.random.default_rng(2024), 5_000)
    return build_profile(reference, numeric=NUMERIC, categorical=CATEGORICAL)


def test_same_distribution_batch_shows_no_drift(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(1), 500)
    report = detect_drift(profile, batch)
    assert report.drift is False
    assert report.drifted_features == []
    assert [f.feature for f in report.features] == [*NUMERIC, *CATEGORICAL]
    assert [f.test for f in report.features] == ["ks", "ks", "ks", "chi2", "chi2"]
    assert [f.kind for f in report.features] == ["numeric"] * 3 + ["categorical"] * 2
    assert all(f.n_batch == 500 and f.missing_batch == 0 for f in report.features)
    assert report.n_batch_rows == 500


def test_half_sd_mean_shift_flags_exactly_that_feature(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(2), 500, shift={"x2": 0.5})
    report = detect_drift(profile, batch)
    assert report.drift is True
    assert report.drifted_features == ["x2"]
    assert report.p_values["x2"] < 1e-10


def test_category_proportion_shift_flags_exactly_that_feature(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(3), 500, c1_probs=[0.35, 0.35, 0.3])
    report = detect_drift(profile, batch)
    assert report.drifted_features == ["c1"]


def test_false_alarm_rate_of_bonferroni_is_controlled(profile: ReferenceProfile) -> None:
    """200 same-distribution batches: the corrected rule alarms at most alpha + 3 binomial sd."""
    trials, alpha = 200, 0.05
    rng = np.random.default_rng(99)
    alarms = uncorrected = 0
    for _ in range(trials):
        report = detect_drift(
            profile, make_frame(rng, 500), DriftOptions(alpha=alpha, multivariate="off")
        )
        alarms += report.drift
        uncorrected += any(p <= alpha for p in report.p_values.values())
    bound = alpha + 3 * math.sqrt(alpha * (1 - alpha) / trials)
    assert alarms / trials <= bound, f"{alarms} false alarms in {trials} trials"
    # the guard can fail: testing 5 features without correction alarms well above alpha
    assert uncorrected / trials > bound, f"{uncorrected} uncorrected alarms in {trials} trials"


@pytest.mark.parametrize(
    ("method", "canonical"),
    [
        ("bonferroni", "bonferroni"),
        ("holm", "holm"),
        ("benjamini_hochberg", "benjamini_hochberg"),
        ("benjamini-hochberg", "benjamini_hochberg"),
    ],
)
def test_every_correction_finds_the_shift(
    profile: ReferenceProfile, method: str, canonical: str
) -> None:
    batch = make_frame(np.random.default_rng(2), 500, shift={"x2": 0.5})
    report = detect_drift(profile, batch, DriftOptions(alpha=0.01, correction=method))
    assert report.drifted_features == ["x2"]
    assert (report.correction, report.alpha) == (canonical, 0.01)


def test_extra_results_join_the_correction_and_come_last(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(1), 500)
    dropped = accuracy_change_test(0.90, 2_000, 0.80, 500)
    report = detect_drift(profile, batch, extra={PERFORMANCE_FEATURE: dropped})
    last = report.features[-1]
    names = [*NUMERIC, *CATEGORICAL, PERFORMANCE_FEATURE]
    assert [f.feature for f in report.features] == names
    assert (last.kind, last.test, last.p_value) == ("extra", dropped.test, dropped.p_value)
    assert report.drifted_features == [PERFORMANCE_FEATURE]
    assert DriftReport.from_dict(json.loads(json.dumps(report.to_dict()))) == report
    # a p-value that passes alone (0.02 <= 0.05) fails once corrected over 6 tests
    borderline = TestResult("custom", 2.1, 0.02, 100, 100, {})
    quiet = detect_drift(profile, batch, extra={"custom": borderline})
    assert quiet.drift is False
    assert quiet.features[-1].p_value == 0.02


def test_extra_results_must_not_clash_with_features(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(1), 50)
    with pytest.raises(DriftError, match="'x1'"):
        detect_drift(profile, batch, extra={"x1": TestResult("t", 0.0, 1.0, 1, 1, {})})


def test_all_missing_numeric_feature_is_drifted_not_a_crash(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(4), 200).assign(x3=np.nan)
    report = detect_drift(profile, batch)
    x3 = report.features[2]
    assert (x3.feature, x3.test, x3.p_value, x3.drifted) == ("x3", "all-missing", 0.0, True)
    assert (x3.missing_batch, x3.n_batch) == (200, 0)
    assert "missing" in x3.details["note"]
    # The missing rate jumps from 0 to 1: its own signal drifts too.
    assert report.drifted_features == ["x3", "__missing_rate__:x3"]


def test_partial_missing_values_are_counted(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(5), 300)
    batch.loc[:9, "x1"] = np.nan
    batch.loc[:4, "c2"] = None
    report = detect_drift(profile, batch)
    x1, c2 = report.features[0], report.features[4]
    assert (x1.missing_batch, x1.n_batch, x1.details["dropped_non_finite"]) == (10, 290, 10)
    assert x1.details["batch_missing_rate"] == 10 / 300
    assert c2.missing_batch == 5
    assert c2.details["unseen"] == {"__missing__": 5}


def test_extra_columns_are_ignored(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(1), 500)
    plain = detect_drift(profile, batch)
    extra = detect_drift(profile, batch.assign(label=1, noise="z")[["noise", *batch, "label"]])
    assert extra == plain


def test_missing_feature_column_is_a_clear_error(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(1), 50).drop(columns=["x2", "c1"])
    with pytest.raises(DriftError, match=r"\['x2', 'c1'\].*every feature of the model's schema"):
        detect_drift(profile, batch)


def test_bad_arguments_are_rejected(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(1), 50)
    with pytest.raises(DriftError, match="valid methods"):
        detect_drift(profile, batch, DriftOptions(correction="fdr"))
    with pytest.raises(DriftError, match="alpha"):
        detect_drift(profile, batch, DriftOptions(alpha=1.5))
    with pytest.raises(DriftError, match="no rows"):
        detect_drift(profile, batch.iloc[:0])
    with pytest.raises(DriftError, match="'x1'.*non-numeric"):
        detect_drift(profile, batch.assign(x1="oops"))


def test_profile_from_disk_gives_the_same_report(profile: ReferenceProfile, tmp_path) -> None:
    save_profile(profile, tmp_path / "profile.json")
    batch = make_frame(np.random.default_rng(2), 500, shift={"x2": 0.5})
    assert detect_drift(load_profile(tmp_path / "profile.json"), batch) == detect_drift(
        profile, batch
    )


def test_json_report_round_trip(profile: ReferenceProfile, tmp_path) -> None:
    batch = make_frame(np.random.default_rng(6), 400, shift={"x2": 0.5})
    batch.loc[:3, "c1"] = "unknown-level"
    report = detect_drift(profile, batch)
    path = write_json_report(report, tmp_path / "out" / "drift.json")
    assert path == tmp_path / "out" / "drift.json"
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert data["schema_version"] == 2
    assert (data["drift"], data["drifted_features"]) == (True, ["x2"])
    assert (data["alpha"], data["correction"], data["n_batch_rows"]) == (0.05, "holm", 400)
    assert [item["feature"] for item in data["features"]] == [*NUMERIC, *CATEGORICAL]
    assert read_json_report(path) == report
    assert DriftReport.from_dict(report.to_dict()) == report


def test_malformed_report_is_rejected(tmp_path) -> None:
    with pytest.raises(DriftError, match="schema_version"):
        DriftReport.from_dict({"schema_version": 9})
    with pytest.raises(DriftError, match="'x'.*'p_value'"):
        DriftReport.from_dict(
            {
                "schema_version": 1,
                "alpha": 0.05,
                "correction": "holm",
                "n_batch_rows": 3,
                "features": [
                    {
                        "feature": "x",
                        "kind": "numeric",
                        "test": "ks",
                        "statistic": 0.1,
                        "p_value": "low",
                        "drifted": False,
                        "n_reference": 10,
                        "n_batch": 3,
                        "missing_batch": 0,
                        "details": {},
                    }
                ],
            }
        )
    bad = tmp_path / "drift.json"
    bad.write_text("[", encoding="utf-8")
    with pytest.raises(DriftError, match="cannot read"):
        read_json_report(bad)


def test_markdown_summary_names_the_drifted_feature(profile: ReferenceProfile) -> None:
    batch = make_frame(np.random.default_rng(2), 500, shift={"x2": 0.5})
    markdown = report_markdown(detect_drift(profile, batch))
    lines = markdown.splitlines()
    assert lines[0] == "## Drift detected in 1 of 5 features: `x2`"
    assert "| feature | test | statistic | p-value | effect size | drifted |" in lines
    rows = [line for line in lines if line.startswith(("| x", "| c", "| __"))]
    assert len(rows) == 5
    assert [row.split(" | ")[0] for row in rows if row.endswith("**yes** |")] == ["| x2"]


def test_markdown_summary_of_a_quiet_batch(profile: ReferenceProfile) -> None:
    markdown = report_markdown(detect_drift(profile, make_frame(np.random.default_rng(1), 500)))
    assert markdown.startswith("## No drift detected in 5 features")
    assert "**yes**" not in markdown
