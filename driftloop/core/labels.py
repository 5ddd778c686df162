"""One form for a target's classes, wherever labels are read, compared, stored or served.

The same class arrives as ``1`` from Parquet, ``1.0`` from a CSV column pandas read as floats,
``"1"`` from a text reader and ``True`` from a boolean column. When every label of a set is a
number or a boolean (``True``/``False`` in any case also as text), the set becomes numbers:
integers (``int64``) when all are whole, else floats, booleans as 1 and 0. Any other set
stays text, each label as ``str(value)``. Labels of different sets are then compared by
``label_keys``, the text of their canonical values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from driftloop.core.text import as_text

_BOOL_TEXT = {"true": 1.0, "false": 0.0}
_WHOLE_LIMIT = 2.0**53  # floats above this are not exact integers: keep them as floats


def _as_number(value: Any) -> float | None:
    """The number a label stands for (booleans as 1/0), or None when it is not one."""
    if isinstance(value, bool | np.bool_):
        return 1.0 if value else 0.0
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        text = str(value).strip()
        if text.lower() in _BOOL_TEXT:
            return _BOOL_TEXT[text.lower()]
        try:
            number = float(text)
        except ValueError:
            return None
    return number if math.isfinite(number) else None


def canonical_labels(values: pd.Series | Iterable[Any]) -> pd.Series:
    """The labels in their one canonical form: int64 or float64 numbers, else text.

    Examples:
        >>> canonical_labels(pd.Series(["1.0", "0.0"])).tolist()
        [1, 0]
        >>> canonical_labels(pd.Series([True, False, 1])).tolist()
        [1, 0, 1]
        >>> canonical_labels(pd.Series(["cat", 1])).tolist()
        ['cat', '1']
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    codes, uniques = pd.factorize(series)  # missing values get code -1
    numbers = [_as_number(v) for v in uniques]
    if any(n is None for n in numbers):
        text = series.astype(str).astype(object)  # str() of each value; missing ones NaN
        return text.where(codes >= 0, np.nan)
    table = np.array([*numbers, np.nan], dtype="float64")  # code -1 reads the last: NaN
    mapped = pd.Series(table[codes], index=series.index)
    whole = mapped.dropna()
    if (codes < 0).any() or not (whole.abs() < _WHOLE_LIMIT).all():
        return mapped
    if (whole == np.floor(whole)).all():
        return mapped.astype("int64")
    return mapped


def label_keys(values: pd.Series | Iterable[Any]) -> pd.Series:
    """The text of each canonical label (NaN where missing): equal keys are the same class.

    Examples:
        >>> label_keys(pd.Series([1.0, None, 0.0])).tolist()
        ['1.0', nan, '0.0']
        >>> label_keys(["1", True]).tolist()
        ['1', '1']
    """
    canonical = canonical_labels(values)
    return pd.Series(as_text(canonical, np.nan), index=canonical.index, dtype=object)


def canonical_classes(classes: Iterable[Any]) -> list[Any]:
    """Distinct canonical labels as plain Python values, sorted by their text."""
    unique = canonical_labels(pd.Series(list(classes), dtype=object)).unique()
    return sorted((v.item() if hasattr(v, "item") else v for v in unique), key=str)
