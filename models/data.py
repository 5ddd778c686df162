"""Label encoding and seeded splits of a labelled batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from driftloop.core.errors import TrainingError
from driftloop.core.labels import canonical_classes, label_keys


def class_list(labels: pd.Series) -> list[Any]:
    """Sorted distinct canonical labels as plain Python values (what the served model predicts)."""
    return canonical_classes(labels)


def encode_labels(labels: pd.Series, classes: Sequence[Any], where: str) -> np.ndarray:
    """Map labels to class indices; a label the model does not know is a TrainingError."""
    index = {k: i for i, k in enumerate(label_keys(classes))}
    codes, distinct = pd.factorize(label_keys(labels))  # each distinct label looked up once
    unknown = sorted(set(distinct) - set(index))
    if unknown:
        raise TrainingError(
            f"{where}: label(s) {unknown[:5]} are not classes the model knows ({list(classes)}); "
            "a new class needs a new model: run `driftloop bootstrap` on data that has it."
        )
    return np.array([index[k] for k in distinct], dtype="int64")[codes]


def encode_target(values: pd.Series, meta: dict[str, Any], where: str) -> np.ndarray:
    """Training targets: class indices for a classifier, float values for a regressor."""
    if meta.get("task", "classification") == "classification":
        return encode_labels(values, meta["classes"], where)
    numbers = pd.to_numeric(values, errors="coerce")
    if numbers.isna().any():
        raise TrainingError(
            f"{where}: target {meta['target']!r} has {int(numbers.isna().sum())} non-numeric "
            "value(s); a regression target must be numbers"
        )
    return numbers.to_numpy(dtype="float64")


def split_positions(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of n row positions: (rest, held out), each in ascending order."""
    order = np.random.default_rng(seed).permutation(n)
    n_hold = max(1, round(n * fraction))
    if n_hold >= n:
        raise TrainingError(
            f"cannot hold out {fraction:.0%} of {n} rows and still train; send larger batches"
        )
    return np.sort(order[n_hold:]), np.sort(order[:n_hold])


def split_frame(
    frame: pd.DataFrame, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded random split: (rest, held-out part of about `fraction` of the rows)."""
    rest, hold = split_positions(len(frame), fraction, seed)
    return (
        frame.iloc[rest].reset_index(drop=True),
        frame.iloc[hold].reset_index(drop=True),
    )
