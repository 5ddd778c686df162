"""Checks of driftloop.toml that span keys: every column it names exists, in the right kind.

Run once at load time, so that a typo in `[ingest] not_null` or `categories` is refused
with the key and the fix instead of failing every batch later.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel


def _unknown(option: str, names: Iterable[str], allowed: list[str], what: str) -> str:
    unknown = sorted(set(names) - set(allowed))
    if not unknown:
        return ""
    return (
        f"[ingest] {option} names column(s) {unknown} that are not {what} {allowed}; "
        "fix the names in driftloop.toml"
    )


def column_problems(target: str, numeric: list[str], categorical: list[str], ingest: Any) -> str:
    """The first `[ingest]` option naming a column the model does not read, or ""."""
    features = [*numeric, *categorical]
    return (
        _unknown("not_null", ingest.not_null, [*features, target], "features or the target")
        or _unknown("categories", ingest.categories, categorical, "categorical features")
        or _unknown("ranges", ingest.ranges, numeric, "numeric features")
    )


def no_booleans(model: type[BaseModel], data: Any) -> None:
    """Refuse true/false given for a number (pydantic would read it as 1/0)."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        field = model.model_fields.get(key)
        if field is None or field.annotation is bool or "bool" in str(field.annotation):
            continue
        values = value if isinstance(value, list) else [value]
        if any(isinstance(v, bool) for v in values):
            raise ValueError(
                f"{key} must be a number, not {str(value).lower()}; write a number without quotes"
            )
