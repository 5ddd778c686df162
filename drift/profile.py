"""Summarise a reference data set into a compact, serialisable profile."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from driftloop.drift.bins import bin_counts, quantile_edges
from driftloop.drift.categories import count_categories
from driftloop.drift.coerce import as_float_array
from driftloop.drift.errors import ProfileError
from driftloop.drift.profile_dict import profile_fields
from driftloop.drift.profile_rows import _cap_rows, _rows, _same, joint_sample

__all__ = ["SCHEMA_VERSION", "ReferenceProfile", "build_profile", "load_profile", "save_profile"]

SCHEMA_VERSION = 2
"""Version 2 adds the joint row sample and the prediction sample; version 1 still loads."""


def _frozen_array(values: object, feature: str) -> NDArray[np.float64]:
    """Return a read-only sorted float64 copy of ``values``, checked to be finite and non-empty."""
    try:
        array = np.array(values, dtype=np.float64)
        if array.ndim != 1:
            array = array.ravel().copy()  # owned, so ks_test can summarise it once (drift.ks)
    except (TypeError, ValueError) as exc:
        raise ProfileError(
            f"numeric feature {feature!r}: reference values must be numbers ({exc})"
        ) from exc
    if array.size == 0 or not np.all(np.isfinite(array)):
        raise ProfileError(
            f"numeric feature {feature!r}: reference values must be a non-empty list of finite "
            "numbers; rebuild the profile with build_profile()"
        )
    if array.size > 1 and bool(np.any(array[1:] < array[:-1])):
        array.sort()  # build_profile's samples are sorted already: one pass checks that
    array.setflags(write=False)
    return array


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    """Per-feature reference distributions: sorted numeric samples and category counts."""

    numeric: dict[str, NDArray[np.float64]]
    numeric_missing: dict[str, tuple[int, int]]
    categorical: dict[str, dict[str, int]]
    n_rows: int
    joint: NDArray[np.float64] | None = None
    prediction: NDArray[np.float64] | None = None
    reference_bins: dict[str, tuple[NDArray[np.float64], NDArray[np.int64]]] = field(
        init=False, repr=False
    )
    """Per numeric feature: reference-decile edges and reference counts (derived, not stored)."""

    def __post_init__(self) -> None:
        """Validate consistency and store read-only copies of the numeric samples."""
        numeric = {str(name): _frozen_array(values, name) for name, values in self.numeric.items()}
        if set(self.numeric_missing) != set(numeric):
            raise ProfileError(
                "numeric_missing must have exactly one (missing, total) entry per numeric feature; "
                f"numeric features {sorted(numeric)}, numeric_missing keys "
                f"{sorted(self.numeric_missing)}"
            )
        missing: dict[str, tuple[int, int]] = {}
        for name, array in numeric.items():
            try:
                n_missing, total = (int(v) for v in self.numeric_missing[name])
            except (TypeError, ValueError) as exc:
                raise ProfileError(
                    f"numeric feature {name!r}: numeric_missing must be a (missing, total) pair "
                    f"of integers, got {self.numeric_missing[name]!r}"
                ) from exc
            if not 0 <= n_missing <= total or array.size > total - n_missing:
                raise ProfileError(
                    f"numeric feature {name!r}: inconsistent counts (missing={n_missing}, "
                    f"total={total}, stored values={array.size}); rebuild the profile"
                )
            missing[name] = (n_missing, total)
        categorical: dict[str, dict[str, int]] = {}
        for name, counts in self.categorical.items():
            if str(name) in numeric:
                raise ProfileError(
                    f"feature {name!r} is listed as both numeric and categorical; list it once"
                )
            clean = {str(category): int(count) for category, count in counts.items()}
            if any(count < 0 for count in clean.values()):
                raise ProfileError(f"categorical feature {name!r}: counts must be non-negative")
            categorical[str(name)] = clean
        if int(self.n_rows) < 0:
            raise ProfileError(f"n_rows must be non-negative, got {self.n_rows}")
        object.__setattr__(self, "numeric", numeric)
        bins = {}
        for name, array in numeric.items():
            edges = quantile_edges(array)
            bins[name] = (edges, bin_counts(array, edges))
        object.__setattr__(self, "reference_bins", bins)
        object.__setattr__(self, "numeric_missing", missing)
        object.__setattr__(self, "categorical", categorical)
        object.__setattr__(self, "n_rows", int(self.n_rows))
        object.__setattr__(self, "joint", _rows(self.joint, "joint", len(numeric) or None))
        object.__setattr__(self, "prediction", _rows(self.prediction, "prediction", None))

    def __eq__(self, other: object) -> bool:
        """Return True when both profiles hold the same features, values and counts."""
        if not isinstance(other, ReferenceProfile):
            return NotImplemented
        return (
            self.n_rows == other.n_rows
            and list(self.numeric) == list(other.numeric)
            and all(np.array_equal(v, other.numeric[k]) for k, v in self.numeric.items())
            and self.numeric_missing == other.numeric_missing
            and list(self.categorical) == list(other.categorical)
            and self.categorical == other.categorical
            and _same(self.joint, other.joint)
            and _same(self.prediction, other.prediction)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def numeric_features(self) -> list[str]:
        """Names of the numeric features, in profile order."""
        return list(self.numeric)

    @property
    def categorical_features(self) -> list[str]:
        """Names of the categorical features, in profile order."""
        return list(self.categorical)

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict that keeps feature order (features are lists)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "n_rows": self.n_rows,
            "numeric": [
                {
                    "feature": name,
                    "values": values.tolist(),
                    "missing": self.numeric_missing[name][0],
                    "total": self.numeric_missing[name][1],
                }
                for name, values in self.numeric.items()
            ],
            "categorical": [
                {"feature": name, "counts": dict(counts)}
                for name, counts in self.categorical.items()
            ],
            "joint": None if self.joint is None else self.joint.tolist(),
            "prediction": None if self.prediction is None else self.prediction.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReferenceProfile:
        """Rebuild a profile from ``to_dict()`` output, raising ProfileError if it is malformed."""
        return cls(**profile_fields(data))


def _check_profile_inputs(frame: pd.DataFrame, listed: list[str], max_values: int) -> None:
    """Raise ProfileError unless each feature is listed once, present, and the frame has rows."""
    if isinstance(max_values, bool) or not isinstance(max_values, int) or max_values < 1:
        raise ProfileError(f"max_values must be a positive integer, got {max_values!r}")
    duplicated = sorted({name for name in listed if listed.count(name) > 1})
    if duplicated:
        raise ProfileError(
            f"features listed more than once (or as both numeric and categorical): {duplicated}; "
            "list each feature exactly once"
        )
    absent = [name for name in listed if name not in frame.columns]
    if absent:
        raise ProfileError(
            f"reference frame lacks column(s) {absent}; available columns: "
            f"{[str(c) for c in frame.columns]}"
        )
    if len(frame) == 0:
        raise ProfileError("reference frame has no rows; build the profile from reference data")


def _numeric_reference(
    values: pd.Series, name: str, max_values: int, rng: np.random.Generator
) -> tuple[NDArray[np.float64], tuple[int, int]]:
    """A numeric feature's sorted finite values (subsampled to max_values) and missing count."""
    column = as_float_array(values, f"numeric column {name!r}", ProfileError)
    finite = column[np.isfinite(column)]
    if finite.size == 0:
        raise ProfileError(
            f"numeric column {name!r} has no finite value in the reference frame; "
            "drop it from the numeric features or fix the reference data"
        )
    missing = (int(column.size - finite.size), int(column.size))
    if finite.size > max_values:
        finite = rng.choice(finite, size=max_values, replace=False)
    return np.sort(finite), missing


def build_profile(
    frame: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    max_values: int = 50_000,
    seed: int = 0,
    joint_rows: int = 500,
    predictions: NDArray[np.float64] | None = None,
) -> ReferenceProfile:
    """Build a reference profile from ``frame`` for the listed numeric and categorical columns.

    Numeric columns keep their sorted finite values, or a seeded uniform subsample of
    ``max_values`` of them; NaN and +/-inf count as missing. Categorical values are counted
    as ``str`` labels with missing values under ``"__missing__"``. With two or more numeric
    features, up to ``joint_rows`` complete rows are kept for the multivariate test; given
    ``predictions`` (the new model's probabilities on ``frame``, shape (n,) or (n, k)), up to
    ``max_values`` of their rows are kept for the prediction drift test.

    Examples
    --------
    >>> frame = pd.DataFrame({"x": [3.0, 1.0, None, 2.0], "c": ["a", "b", "a", None]})
    >>> profile = build_profile(frame, numeric=["x"], categorical=["c"])
    >>> profile.numeric["x"].tolist(), profile.numeric_missing["x"]
    ([1.0, 2.0, 3.0], (1, 4))
    >>> profile.categorical["c"]
    {'__missing__': 1, 'a': 2, 'b': 1}
    """
    numeric, categorical = list(numeric), list(categorical)
    _check_profile_inputs(frame, numeric + categorical, max_values)
    rng = np.random.default_rng(seed)
    values: dict[str, NDArray[np.float64]] = {}
    missing: dict[str, tuple[int, int]] = {}
    for name in numeric:
        values[name], missing[name] = _numeric_reference(frame[name], name, max_values, rng)
    counts = {name: count_categories(frame[name]) for name in categorical}
    return ReferenceProfile(
        numeric=values,
        numeric_missing=missing,
        categorical=counts,
        n_rows=len(frame),
        joint=joint_sample(frame, numeric, joint_rows, rng),
        prediction=None if predictions is None else _cap_rows(predictions, max_values, rng),
    )


def save_profile(profile: ReferenceProfile, path: str | os.PathLike[str]) -> None:
    """Write ``profile`` to ``path`` as UTF-8 JSON, creating parent directories."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(profile.to_dict(), ensure_ascii=False, allow_nan=False)
    target.write_text(text + "\n", encoding="utf-8")


def load_profile(path: str | os.PathLike[str]) -> ReferenceProfile:
    """Read a profile written by ``save_profile``, raising ProfileError if it is unreadable."""
    source = Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(f"no profile file at {str(source)!r}; build and save one first") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"cannot read profile file {str(source)!r}: {exc}") from exc
    return ReferenceProfile.from_dict(data)
