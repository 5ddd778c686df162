"""Row samples kept in a profile: the joint numeric rows (multivariate test) and predictions."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from driftloop.drift.coerce import as_float_array
from driftloop.drift.errors import ProfileError

__all__ = ["joint_sample"]


def _rows(values: ArrayLike | None, what: str, width: int | None) -> NDArray[np.float64] | None:
    """Return a read-only finite 2-D float copy (1-D becomes one column), or None."""
    if values is None:
        return None
    array = np.array(values, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0 or not np.all(np.isfinite(array)):
        raise ProfileError(f"profile {what} sample must be a non-empty 2-D array of finite numbers")
    if width is not None and array.shape[1] != width:
        raise ProfileError(
            f"profile {what} sample has {array.shape[1]} columns, expected {width} "
            "(one per numeric feature, in profile order)"
        )
    array.setflags(write=False)
    return array


def _listed_rows(value: object, what: str) -> NDArray[np.float64] | None:
    """Read a serialised row sample (list of lists, or absent/None), raising ProfileError."""
    if value is None:
        return None
    if not isinstance(value, list):
        raise ProfileError(f"profile {what!r} must be a list of rows or null")
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"profile {what!r} rows must be lists of numbers ({exc})") from exc


def _same(a: NDArray[np.float64] | None, b: NDArray[np.float64] | None) -> bool:
    """Return True when both samples are absent or equal."""
    return (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))


def _cap_rows(values: ArrayLike, limit: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """Return at most ``limit`` rows of ``values``, a seeded subsample in original order."""
    array = np.asarray(values, dtype=np.float64)
    if array.shape[0] > limit:
        array = array[np.sort(rng.choice(array.shape[0], size=limit, replace=False))]
    return array


def joint_sample(
    frame: pd.DataFrame, numeric: Sequence[str], rows: int, rng: np.random.Generator
) -> NDArray[np.float64] | None:
    """Up to ``rows`` complete rows of the numeric features, or None with fewer than 2 features.

    Only the kept rows are copied (the complete rows are found column by column), so the
    cost stays linear in the columns; the rows and the draws are those of subsampling the
    whole matrix of complete rows.

    Examples
    --------
    >>> frame = pd.DataFrame({"a": [1.0, None, 3.0], "b": [4.0, 5.0, 6.0]})
    >>> joint_sample(frame, ["a", "b"], 10, np.random.default_rng(0)).tolist()
    [[1.0, 4.0], [3.0, 6.0]]
    """
    if len(numeric) < 2 or rows < 1:
        return None
    columns = [as_float_array(frame[name]) for name in numeric]
    complete = np.ones(len(frame), dtype=bool)
    for column in columns:
        complete &= np.isfinite(column)
    kept = np.flatnonzero(complete)
    if kept.size == 0:
        return None
    if kept.size > rows:
        kept = kept[np.sort(rng.choice(kept.size, size=rows, replace=False))]
    return np.column_stack([column[kept] for column in columns])
