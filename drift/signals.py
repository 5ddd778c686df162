"""The verdict of a drift report, with data features and model signals counted apart.

A report holds the tests of the batch's columns (numeric and categorical features) next to
tests that are not columns: the model's predictions (``__prediction__``), its accuracy or
errors on labelled rows (``__accuracy__``), its estimated accuracy on unlabelled rows
(``__estimated_accuracy__``, drifted when the estimate dropped beyond its band), missing
rates and the joint test. A verdict that said "5 of 9 features" counted those as features;
this one names them as what they are.
"""

from __future__ import annotations

from driftloop.drift.estimate import ESTIMATE_FEATURE
from driftloop.drift.missing import MISSING_PREFIX
from driftloop.drift.mmd import JOINT_FEATURE
from driftloop.drift.outcome import DriftReport, FeatureDrift
from driftloop.drift.performance import PERFORMANCE_FEATURE
from driftloop.drift.prediction import PREDICTION_FEATURE

__all__ = ["FEATURE_KINDS", "column_tests", "signal_name", "signal_tests", "verdict"]

FEATURE_KINDS = ("numeric", "categorical")
"""Kinds of the tests that are one column of the batch each."""


def column_tests(report: DriftReport) -> list[FeatureDrift]:
    """The tests of the batch's own columns, in report order."""
    return [item for item in report.features if item.kind in FEATURE_KINDS]


def signal_tests(report: DriftReport) -> list[FeatureDrift]:
    """The tests that are not one column: predictions, accuracy, missing rates, joint."""
    return [item for item in report.features if item.kind not in FEATURE_KINDS]


def signal_name(item: FeatureDrift) -> str:
    """A signal in words: "prediction drift", "accuracy drop" (when drifted), "missing rate of x1".

    Examples
    --------
    >>> item = FeatureDrift("__accuracy__", "extra", "accuracy-change", -4.0, 1e-5, True, 1, 1, 0,
    ...                     {"change": -0.12})
    >>> signal_name(item)
    'accuracy drop'
    """
    name = item.feature
    if name == PREDICTION_FEATURE:
        return "prediction drift"
    if name == PERFORMANCE_FEATURE:
        if not item.drifted:
            return "accuracy change"
        change = item.details.get("change")
        if change is None:
            before = item.details.get("reference_mean_error", 0.0)
            change = before - item.details.get("batch_mean_error", before)
        return "accuracy drop" if change < 0 else "accuracy rise"
    if name == ESTIMATE_FEATURE:
        return "estimated accuracy drop" if item.drifted else "estimated accuracy"
    if name == JOINT_FEATURE:
        return "joint distribution"
    if name.startswith(MISSING_PREFIX):
        return f"missing rate of {name.removeprefix(MISSING_PREFIX)}"
    return name


def verdict(report: DriftReport, code: str = "`") -> str:
    """One line: the drifted features among the batch's columns, then the model signals.

    ``code`` quotes feature names (a markdown code span by default; "" for plain text).

    Examples
    --------
    >>> x = FeatureDrift("x", "numeric", "ks", 0.3, 1e-9, True, 100, 50, 0)
    >>> y = FeatureDrift("y", "numeric", "ks", 0.1, 0.4, False, 100, 50, 0)
    >>> p = FeatureDrift("__prediction__", "prediction", "prediction-ks", 0.3, 1e-6, True, 9, 9, 0)
    >>> verdict(DriftReport([x, y, p], 0.05, "holm", 50))
    'Drift detected in 1 of 2 features: `x`; model signals: prediction drift'
    >>> verdict(DriftReport([y], 0.05, "holm", 50))
    'No drift detected in 1 features'
    """
    columns = column_tests(report)
    drifted = [item.feature for item in columns if item.drifted]
    signals = [signal_name(item) for item in signal_tests(report) if item.drifted]
    if drifted:
        names = ", ".join(f"{code}{name}{code}" for name in drifted)
        line = f"Drift detected in {len(drifted)} of {len(columns)} features: {names}"
    elif signals:
        line = f"No feature drifted (of {len(columns)})"
    else:
        return f"No drift detected in {len(columns)} features"
    return f"{line}; model signals: {', '.join(signals)}" if signals else line
