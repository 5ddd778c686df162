"""Compare a batch with a reference profile, feature by feature, and decide which drifted."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from drift.chi2 import chi2_test
from drift.coerce import as_float_array
from drift.correction import canonical_method, correction_for, validate_alpha
from drift.errors import BatchError, ReportError
from drift.ks import ks_test
from drift.profile import ReferenceProfile
from drift.result import TestResult

__all__ = ["KINDS", "REPORT_SCHEMA_VERSION", "DriftReport", "FeatureDrift", "detect_drift"]

REPORT_SCHEMA_VERSION = 1

KINDS = ("numeric", "categorical", "extra")
"""Feature kinds: profile features, and precomputed results passed to ``detect_drift(extra=)``."""

_FEATURE_TYPES: dict[str, tuple[type, ...]] = {
    "feature": (str,),
    "kind": (str,),
    "test": (str,),
    "statistic": (int, float),
    "p_value": (int, float),
    "drifted": (bool,),
    "n_reference": (int,),
    "n_batch": (int,),
    "missing_batch": (int,),
    "details": (dict,),
}


@dataclass(frozen=True)
class FeatureDrift:
    """The drift test outcome and corrected decision for one feature."""

    feature: str
    kind: str
    test: str
    statistic: float
    p_value: float
    drifted: bool
    n_reference: int
    n_batch: int
    missing_batch: int
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureDrift:
        """Rebuild a FeatureDrift from ``to_dict()`` output, raising ReportError if malformed."""
        if not isinstance(data, Mapping):
            raise ReportError(f"each feature entry must be a mapping, got {type(data).__name__}")
        name = data.get("feature", "?")
        values: dict[str, Any] = {}
        for key, types in _FEATURE_TYPES.items():
            if key not in data:
                raise ReportError(f"feature entry {name!r} lacks key {key!r}")
            value = data[key]
            if not isinstance(value, types) or (bool not in types and isinstance(value, bool)):
                raise ReportError(f"feature entry {name!r}: {key!r} has invalid value {value!r}")
            values[key] = value
        if values["kind"] not in KINDS:
            raise ReportError(f"feature entry {name!r}: kind must be one of {list(KINDS)}")
        values["statistic"] = float(values["statistic"])
        values["p_value"] = float(values["p_value"])
        values["details"] = copy.deepcopy(values["details"])
        return cls(**values)


@dataclass(frozen=True)
class DriftReport:
    """Per-feature drift results for one batch, with the correction that decided them."""

    features: list[FeatureDrift]
    alpha: float
    correction: str
    n_batch_rows: int

    @property
    def drift(self) -> bool:
        """True when at least one feature drifted."""
        return any(item.drifted for item in self.features)

    @property
    def drifted_features(self) -> list[str]:
        """Names of the drifted features, in report order."""
        return [item.feature for item in self.features if item.drifted]

    @property
    def p_values(self) -> dict[str, float]:
        """Uncorrected p-value of every feature, in report order."""
        return {item.feature: item.p_value for item in self.features}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict with ``"schema_version": 1`` and derived verdicts."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "drift": self.drift,
            "drifted_features": self.drifted_features,
            "alpha": self.alpha,
            "correction": self.correction,
            "n_batch_rows": self.n_batch_rows,
            "features": [item.to_dict() for item in self.features],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """Rebuild a report from ``to_dict()`` output, raising ReportError if it is malformed."""
        if not isinstance(data, Mapping):
            raise ReportError(f"a drift report must be a mapping, got {type(data).__name__}")
        if data.get("schema_version") != REPORT_SCHEMA_VERSION:
            raise ReportError(
                f"unsupported drift report schema_version {data.get('schema_version')!r} "
                f"(expected {REPORT_SCHEMA_VERSION}); regenerate the report with detect_drift()"
            )
        missing = [k for k in ("features", "alpha", "correction", "n_batch_rows") if k not in data]
        if missing:
            raise ReportError(f"drift report lacks key(s) {missing}")
        if not isinstance(data["features"], list):
            raise ReportError("drift report 'features' must be a list of feature entries")
        alpha, rows = data["alpha"], data["n_batch_rows"]
        if isinstance(alpha, bool) or not isinstance(alpha, int | float):
            raise ReportError(f"drift report 'alpha' must be a number, got {alpha!r}")
        if isinstance(rows, bool) or not isinstance(rows, int):
            raise ReportError(f"drift report 'n_batch_rows' must be an integer, got {rows!r}")
        return cls(
            features=[FeatureDrift.from_dict(item) for item in data["features"]],
            alpha=float(alpha),
            correction=str(data["correction"]),
            n_batch_rows=rows,
        )


def _numeric_result(
    profile: ReferenceProfile, name: str, column: pd.Series
) -> tuple[TestResult, int]:
    """Return the KS result (or an all-missing stand-in) and the missing count of one column."""
    values = as_float_array(column, f"batch column {name!r}")
    n_missing = int(values.size - np.count_nonzero(np.isfinite(values)))
    ref_missing, ref_total = profile.numeric_missing[name]
    rates = {
        "reference_missing_rate": ref_missing / ref_total if ref_total else 0.0,
        "batch_missing_rate": n_missing / values.size,
    }
    reference = profile.numeric[name]
    if n_missing == values.size:
        result = TestResult(
            test="all-missing",
            statistic=1.0,
            p_value=0.0,
            n_reference=int(reference.size),
            n_batch=0,
            details={
                **rates,
                "note": (
                    f"all {values.size} batch values of {name!r} are missing or non-finite, so "
                    "no KS test could run; the feature is marked drifted (statistic = batch "
                    "missing rate, p-value 0.0). Check the upstream data feed for this column."
                ),
            },
        )
        return result, n_missing
    result = ks_test(reference, values)
    return TestResult(**{**asdict(result), "details": {**result.details, **rates}}), n_missing


def detect_drift(
    profile: ReferenceProfile,
    batch: pd.DataFrame,
    alpha: float = 0.05,
    correction: str = "bonferroni",
    extra: Mapping[str, TestResult] | None = None,
) -> DriftReport:
    """Test every profile feature of ``batch`` for drift and correct across all features.

    Numeric features get a KS test, categorical ones a chi-squared test; the report lists
    numeric features first, then categorical, in profile order. Extra batch columns are ignored.
    ``extra`` maps names to precomputed results (e.g. ``accuracy_drop_test`` under
    ``PERFORMANCE_FEATURE``); they join the correction and are listed last, kind ``"extra"``.

    Examples
    --------
    >>> from drift.profile import build_profile
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(["a", "b"], 2000)})
    >>> profile = build_profile(reference, numeric=["x"], categorical=["c"])
    >>> same = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    >>> detect_drift(profile, same).drift
    False
    >>> shifted = same.assign(x=same["x"] + 1.0)
    >>> detect_drift(profile, shifted).drifted_features
    ['x']
    """
    alpha = validate_alpha(alpha)
    correction = canonical_method(correction)
    decide = correction_for(correction)
    if not isinstance(batch, pd.DataFrame):
        raise BatchError(f"batch must be a pandas DataFrame, got {type(batch).__name__}")
    names = profile.numeric_features + profile.categorical_features
    absent = [name for name in names if name not in batch.columns]
    if absent:
        raise BatchError(
            f"batch lacks feature column(s) {absent}; the batch must carry every feature of the "
            f"model's schema (profile features: {names})"
        )
    repeated = sorted({name for name in names if list(batch.columns).count(name) > 1})
    if repeated:
        raise BatchError(f"batch has duplicate column(s) {repeated}; keep one column per feature")
    if len(batch) == 0:
        raise BatchError("batch has no rows; there is nothing to test for drift")
    extras = dict(extra or {})
    clashes = sorted(set(extras) & set(names))
    if clashes:
        raise BatchError(f"extra result name(s) {clashes} clash with profile features; rename them")
    for name, extra_result in extras.items():
        if not isinstance(extra_result, TestResult):
            raise BatchError(
                f"extra result {name!r} must be a TestResult, got {type(extra_result)}"
            )
    outcomes: list[tuple[str, str, TestResult, int]] = []
    for name in profile.numeric_features:
        result, n_missing = _numeric_result(profile, name, batch[name])
        outcomes.append((name, "numeric", result, n_missing))
    for name in profile.categorical_features:
        column = batch[name]
        result = chi2_test(profile.categorical[name], column)
        outcomes.append((name, "categorical", result, int(column.isna().sum())))
    outcomes.extend((name, "extra", result, 0) for name, result in extras.items())
    decisions = decide({name: result.p_value for name, _, result, _ in outcomes}, alpha)
    features = [
        FeatureDrift(
            feature=name,
            kind=kind,
            test=result.test,
            statistic=result.statistic,
            p_value=result.p_value,
            drifted=bool(decisions[name] or result.test == "all-missing"),
            n_reference=result.n_reference,
            n_batch=result.n_batch,
            missing_batch=n_missing,
            details=copy.deepcopy(result.details),
        )
        for name, kind, result, n_missing in outcomes
    ]
    return DriftReport(
        features=features, alpha=alpha, correction=correction, n_batch_rows=len(batch)
    )
