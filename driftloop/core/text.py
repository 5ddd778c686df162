"""Values as text, converted once per distinct value rather than once per row.

A batch's category and label columns hold few distinct values in many rows: ``str()`` of each
distinct value, looked up by row, gives what ``astype("str")`` gives at a fraction of the cost
(the unseen-category check of two columns of 200,000 rows: 33 ms with ``astype``, 8 ms so).
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def text_codes(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's index into the distinct texts of the values (their ``str()``), -1 where missing.

    Examples:
        >>> codes, texts = text_codes(pd.Series(["b", None, "a", "b"]))
        >>> codes.tolist(), texts
        ([0, -1, 1, 0], ['b', 'a'])
        >>> text_codes(pd.Series([1, 1.0, True], dtype=object))[1]
        ['1', '1.0', 'True']
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype(object)
    codes, uniques = pd.factorize(values)
    exact = values.dtype.kind in "iub" or all(isinstance(u, str) for u in uniques)
    if not exact:  # pandas takes 1, 1.0 and True (or 0.0 and -0.0) as one value
        codes, uniques = pd.factorize(values.astype("str"))
    return np.asarray(codes), [str(u) for u in uniques]


def as_text(values: pd.Series, missing: object = None) -> np.ndarray:
    """``str()`` of each value as an object array, ``missing`` where a value is missing.

    Examples:
        >>> as_text(pd.Series([2.5, None, 2.5]), missing="?").tolist()
        ['2.5', '?', '2.5']
    """
    codes, texts = text_codes(values)
    table = np.empty(len(texts) + 1, dtype=object)
    table[: len(texts)] = texts
    table[-1] = missing  # code -1, a missing value, reads the last entry
    return table[codes]
