"""Drift detection: profile reference data, test new batches, correct, and report.

A pure library (pandas, numpy, scipy): build a ``ReferenceProfile`` from training data,
call ``detect_drift`` on each new batch, and serialise the ``DriftReport``.
"""

from drift.categories import MISSING, OTHER, UNSEEN
from drift.chi2 import chi2_test
from drift.correction import CORRECTIONS, benjamini_hochberg, bonferroni, correct, holm
from drift.detect import DriftReport, FeatureDrift, detect_drift
from drift.errors import BatchError, DriftError, ProfileError, ReportError
from drift.ks import ks_test
from drift.performance import PERFORMANCE_FEATURE, accuracy_drop_test
from drift.profile import ReferenceProfile, build_profile, load_profile, save_profile
from drift.report import read_json_report, report_markdown, write_json_report
from drift.result import TestResult

__all__ = [
    "CORRECTIONS",
    "MISSING",
    "OTHER",
    "PERFORMANCE_FEATURE",
    "UNSEEN",
    "BatchError",
    "DriftError",
    "DriftReport",
    "FeatureDrift",
    "ProfileError",
    "ReferenceProfile",
    "ReportError",
    "TestResult",
    "accuracy_drop_test",
    "benjamini_hochberg",
    "bonferroni",
    "build_profile",
    "chi2_test",
    "correct",
    "detect_drift",
    "holm",
    "ks_test",
    "load_profile",
    "read_json_report",
    "report_markdown",
    "save_profile",
    "write_json_report",
]
