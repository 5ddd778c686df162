"""The drift report: one decided test per feature (or pseudo-feature), JSON schema version 2."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from driftloop.drift.errors import ReportError
from driftloop.drift.performance import PERFORMANCE_FEATURE

__all__ = ["KINDS", "REPORT_SCHEMA_VERSION", "DriftReport", "FeatureDrift"]

REPORT_SCHEMA_VERSION = 2
"""Version 2 adds ``effect_size`` per feature and ``effect_size_floor``; version 1 still reads."""

KINDS = ("numeric", "categorical", "missing", "joint", "prediction", "extra")
"""Feature kinds: profile features, missing-rate, joint and prediction tests, ``extra=`` results."""

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
    effect_size: float | None = None

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
        effect = data.get("effect_size")
        if effect is not None and (isinstance(effect, bool) or not isinstance(effect, int | float)):
            raise ReportError(f"feature entry {name!r}: 'effect_size' has invalid value {effect!r}")
        values["effect_size"] = None if effect is None else float(effect)
        return cls(**values)


@dataclass(frozen=True)
class DriftReport:
    """Per-feature drift results for one batch, with the correction that decided them."""

    features: list[FeatureDrift]
    alpha: float
    correction: str
    n_batch_rows: int
    effect_size_floor: float = 0.0

    @property
    def drift(self) -> bool:
        """True when at least one feature drifted."""
        return any(item.drifted for item in self.features)

    @property
    def drifted_features(self) -> list[str]:
        """Names of the drifted features, in report order."""
        return [item.feature for item in self.features if item.drifted]

    @property
    def performance_drift(self) -> bool:
        """True when the model's own errors on the (labelled) batch drifted."""
        return PERFORMANCE_FEATURE in self.drifted_features

    @property
    def p_values(self) -> dict[str, float]:
        """Uncorrected p-value of every feature, in report order."""
        return {item.feature: item.p_value for item in self.features}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict with ``"schema_version": 2`` and derived verdicts."""
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "drift": self.drift,
            "drifted_features": self.drifted_features,
            "alpha": self.alpha,
            "correction": self.correction,
            "n_batch_rows": self.n_batch_rows,
            "effect_size_floor": self.effect_size_floor,
            "features": [item.to_dict() for item in self.features],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DriftReport:
        """Rebuild a report from ``to_dict()`` output, raising ReportError if it is malformed."""
        if not isinstance(data, Mapping):
            raise ReportError(f"a drift report must be a mapping, got {type(data).__name__}")
        if data.get("schema_version") not in (1, REPORT_SCHEMA_VERSION):
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
            effect_size_floor=float(data.get("effect_size_floor", 0.0)),
        )
