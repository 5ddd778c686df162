"""Drift detection: profile reference data, test new batches, correct, and report.

A pure library (pandas, numpy, scipy; matplotlib is not needed): build a
``ReferenceProfile`` from training data, call ``detect_drift`` on each new batch, and
serialise the ``DriftReport`` (JSON, markdown, self-contained HTML).
"""

from driftloop.drift.action import ActionTaken
from driftloop.drift.ad import ad_test
from driftloop.drift.categories import MISSING, OTHER, UNSEEN
from driftloop.drift.chi2 import chi2_from_counts, chi2_test
from driftloop.drift.correction import CORRECTIONS, benjamini_hochberg, bonferroni, correct, holm
from driftloop.drift.cvm import cvm_test
from driftloop.drift.detect import DriftOptions, DriftReport, FeatureDrift, Submitter, detect_drift
from driftloop.drift.errors import BatchError, DriftError, ProfileError, ReportError
from driftloop.drift.estimate import (
    ESTIMATE_FEATURE,
    Calibration,
    Estimate,
    estimate_accuracy,
    estimate_test,
    fit_calibration,
)
from driftloop.drift.features import CATEGORICAL_TESTS, NUMERIC_TESTS
from driftloop.drift.html import report_html
from driftloop.drift.js import js_categorical, js_distance, js_numeric
from driftloop.drift.ks import ks_test
from driftloop.drift.loss import error_change_test
from driftloop.drift.missing import MISSING_PREFIX, missing_rate_test
from driftloop.drift.mmd import JOINT_FEATURE, mmd_test
from driftloop.drift.performance import PERFORMANCE_FEATURE, accuracy_change_test
from driftloop.drift.prediction import PREDICTION_FEATURE, prediction_drift_test, with_predictions
from driftloop.drift.profile import ReferenceProfile, build_profile, load_profile, save_profile
from driftloop.drift.psi import psi_categorical, psi_numeric
from driftloop.drift.report import read_json_report, report_markdown, write_json_report
from driftloop.drift.result import TestResult
from driftloop.drift.support import in_support
from driftloop.drift.wasserstein import wasserstein_test

__all__ = [
    "CATEGORICAL_TESTS",
    "CORRECTIONS",
    "ESTIMATE_FEATURE",
    "JOINT_FEATURE",
    "MISSING",
    "MISSING_PREFIX",
    "NUMERIC_TESTS",
    "OTHER",
    "PERFORMANCE_FEATURE",
    "PREDICTION_FEATURE",
    "UNSEEN",
    "ActionTaken",
    "BatchError",
    "Calibration",
    "DriftError",
    "DriftOptions",
    "DriftReport",
    "Estimate",
    "FeatureDrift",
    "ProfileError",
    "ReferenceProfile",
    "ReportError",
    "Submitter",
    "TestResult",
    "accuracy_change_test",
    "ad_test",
    "benjamini_hochberg",
    "bonferroni",
    "build_profile",
    "chi2_from_counts",
    "chi2_test",
    "correct",
    "cvm_test",
    "detect_drift",
    "error_change_test",
    "estimate_accuracy",
    "estimate_test",
    "fit_calibration",
    "holm",
    "in_support",
    "js_categorical",
    "js_distance",
    "js_numeric",
    "ks_test",
    "load_profile",
    "missing_rate_test",
    "mmd_test",
    "prediction_drift_test",
    "psi_categorical",
    "psi_numeric",
    "read_json_report",
    "report_html",
    "report_markdown",
    "save_profile",
    "wasserstein_test",
    "with_predictions",
    "write_json_report",
]
