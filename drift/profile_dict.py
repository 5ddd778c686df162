"""Read a profile's serialised form (``ReferenceProfile.to_dict()``), checking every field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from driftloop.drift.errors import ProfileError
from driftloop.drift.profile_rows import _listed_rows

READABLE_VERSIONS = (1, 2)
"""Profile schema versions this code reads (``drift.profile.SCHEMA_VERSION`` is the newest)."""


def profile_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """The ReferenceProfile fields a serialised profile holds; ProfileError if it is malformed."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"a profile must be a mapping, got {type(data).__name__}")
    version = data.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise ProfileError(
            f"unsupported profile schema_version {version!r} (readable: {READABLE_VERSIONS}); "
            "rebuild the profile with build_profile() from this version of drift"
        )
    try:
        numeric_entries = list(data["numeric"])
        categorical_entries = list(data["categorical"])
        n_rows = data["n_rows"]
    except (KeyError, TypeError) as exc:
        raise ProfileError(
            f"profile dict is missing or has a malformed key {exc}; expected keys "
            "'schema_version', 'n_rows', 'numeric' (list) and 'categorical' (list)"
        ) from exc
    _check_int(n_rows, "n_rows")
    numeric: dict[str, list[float]] = {}  # sorted and frozen into arrays by the profile
    missing: dict[str, tuple[int, int]] = {}
    categorical: dict[str, dict[str, int]] = {}
    for entry in numeric_entries:
        name = _entry_name(entry, ("feature", "values", "missing", "total"), "numeric")
        _check_int(entry["missing"], f"numeric feature {name!r} 'missing'")
        _check_int(entry["total"], f"numeric feature {name!r} 'total'")
        raw = entry["values"]
        if not isinstance(raw, list) or not all(_is_number(v) for v in raw):
            raise ProfileError(f"numeric feature {name!r}: 'values' must be a list of numbers")
        if name in numeric:
            raise ProfileError(f"numeric feature {name!r} appears twice in the profile")
        numeric[name] = raw
        missing[name] = (entry["missing"], entry["total"])
    for entry in categorical_entries:
        name = _entry_name(entry, ("feature", "counts"), "categorical")
        counts = entry["counts"]
        if not isinstance(counts, Mapping):
            raise ProfileError(f"categorical feature {name!r}: 'counts' must map category to count")
        if name in categorical:
            raise ProfileError(f"categorical feature {name!r} appears twice in the profile")
        for category, count in counts.items():
            _check_int(count, f"categorical feature {name!r} count of {category!r}")
        categorical[name] = {str(k): v for k, v in counts.items()}
    return {
        "numeric": numeric,
        "numeric_missing": missing,
        "categorical": categorical,
        "n_rows": n_rows,
        "joint": _listed_rows(data.get("joint"), "joint"),
        "prediction": _listed_rows(data.get("prediction"), "prediction"),
    }


def _is_number(value: object) -> bool:
    """Return True for an int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_int(value: object, what: str) -> None:
    """Raise ProfileError unless ``value`` is a non-negative int (bool excluded)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ProfileError(f"{what} must be a non-negative integer, got {value!r}")


def _entry_name(entry: object, keys: tuple[str, ...], kind: str) -> str:
    """Return the feature name of a serialised feature entry after checking its keys."""
    if not isinstance(entry, Mapping) or any(key not in entry for key in keys):
        raise ProfileError(f"each {kind} profile entry must be a mapping with keys {list(keys)}")
    name = entry["feature"]
    if not isinstance(name, str) or not name:
        raise ProfileError(f"{kind} profile entry has an invalid feature name {name!r}")
    return name
