"""Check a batch frame against the model's feature schema and coerce it to the model's types."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from driftloop.errors import SchemaError


def _example(values: pd.Series) -> str:
    shown = [repr(v) for v in values.head(3).tolist()]
    return ", ".join(shown)


def validate_batch(
    frame: pd.DataFrame,
    name: str,
    numeric: Sequence[str],
    categorical: Sequence[str],
    target: str,
    extra_columns: str = "ignore",
    min_rows: int = 1,
) -> pd.DataFrame:
    """Return the batch's schema columns (plus the target if present) with the model's types."""
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    expected = [*numeric, *categorical]
    missing = [c for c in expected if c not in columns]
    if missing:
        raise SchemaError(
            f"{name}: missing column(s) {missing}; the model reads {expected}. "
            "Add the columns to the batch, or update [features] in driftloop.toml "
            "and bootstrap a new model."
        )
    extra = [c for c in columns if c not in expected and c != target]
    if extra and extra_columns == "reject":
        raise SchemaError(
            f"{name}: unexpected column(s) {extra}; drop them from the batch, "
            'or set [ingest] extra_columns = "ignore" in driftloop.toml.'
        )
    if len(frame) < min_rows:
        raise SchemaError(
            f"{name}: {len(frame)} row(s), fewer than [ingest] min_rows = {min_rows}; "
            "send larger batches or lower min_rows."
        )
    out: dict[str, pd.Series] = {}
    for col in numeric:
        values = pd.to_numeric(frame[col], errors="coerce")
        bad = values.isna() & frame[col].notna()
        if bad.any():
            raise SchemaError(
                f"{name}: column {col!r} must be numeric, but {int(bad.sum())} of {len(frame)} "
                f"row(s) are not numbers (e.g. {_example(frame.loc[bad, col])}). Fix the values, "
                "or list the column under [features] categorical and bootstrap a new model."
            )
        values = values.astype("float64")
        if np.isinf(values.to_numpy()).any():
            n = int(np.isinf(values.to_numpy()).sum())
            raise SchemaError(
                f"{name}: column {col!r} holds {n} infinite value(s); "
                "replace them with real numbers or leave the cells empty."
            )
        if values.isna().all():
            raise SchemaError(
                f"{name}: column {col!r} is empty in all {len(frame)} rows; "
                "the producer lost this column's values."
            )
        out[col] = values
    for col in categorical:
        raw = frame[col]
        text = raw.astype("str").where(raw.notna(), None)
        out[col] = text.astype("object")
    if target in columns:
        labels = frame[target]
        if labels.isna().any():
            n = int(labels.isna().sum())
            raise SchemaError(
                f"{name}: target column {target!r} is empty in {n} row(s); "
                "send every row with its label, or drop the target column entirely "
                "(then drift is tested but the model is not fine-tuned)."
            )
        out[target] = labels
    return pd.DataFrame(out, index=frame.index).reset_index(drop=True)
