"""Convert array-like numeric columns to float64 arrays without silently parsing strings."""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from pandas.api.extensions import ExtensionArray
from pandas.api.types import is_numeric_dtype

from driftloop.drift.errors import BatchError, DriftError

__all__ = ["as_float_array"]


def as_float_array(
    values: ArrayLike, what: str = "batch", error: type[DriftError] = BatchError
) -> NDArray[np.float64]:
    """Convert ``values`` to a 1-D float64 array with missing values as NaN, or raise ``error``.

    Strings are rejected rather than parsed, so a mis-typed column fails loudly.

    Examples
    --------
    >>> as_float_array([1, None, 2.5]).tolist()
    [1.0, nan, 2.5]
    """
    if isinstance(values, pd.Series | pd.Index | ExtensionArray):
        if isinstance(values.dtype, np.dtype) and values.dtype.kind in "biuf":
            # plain numpy storage holds no NA but NaN: no copy for float64 columns
            return np.asarray(values, dtype=np.float64).ravel()
        if is_numeric_dtype(values.dtype):
            return np.asarray(values.to_numpy(dtype=np.float64, na_value=np.nan)).ravel()
        array = np.asarray(values, dtype=object).ravel()
    else:
        array = np.asarray(values).ravel()
        if array.dtype.kind in "biuf":
            return array.astype(np.float64, copy=False)
        array = array.astype(object)
    out = np.empty(array.size, dtype=np.float64)
    for i, value in enumerate(array.tolist()):
        if value is None or value is pd.NA:
            out[i] = np.nan
        elif isinstance(value, Real):
            out[i] = float(value)
        else:
            raise error(
                f"{what} holds a non-numeric value {value!r}; convert the column to numbers "
                "or list it as a categorical feature"
            )
    return out
