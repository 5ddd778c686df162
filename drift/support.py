"""The rows of a batch that lie where the reference data lay: inside its support.

A model's knowledge is grounded where it saw data. Outside the reference's range it
extrapolates, and its confidence says nothing about its accuracy there, so a label-free
estimate only holds inside the support. A row is inside when every numeric feature is
within the reference's central ``coverage`` range (a missing number counts as inside) and
every categorical value was seen in the reference (a missing or unseen one is outside).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftloop.drift.errors import DriftError
from driftloop.drift.profile import ReferenceProfile

__all__ = ["COVERAGE", "in_support"]

COVERAGE = 0.99
"""Central share of each numeric feature's reference values that counts as its support."""


def in_support(
    profile: ReferenceProfile, batch: pd.DataFrame, coverage: float = COVERAGE
) -> np.ndarray:
    """A boolean mask: the batch rows inside the reference's support.

    Examples
    --------
    >>> from driftloop.drift.profile import build_profile
    >>> ref = pd.DataFrame({"x": np.linspace(0.0, 10.0, 1001), "c": ["a", "b"] * 500 + ["a"]})
    >>> profile = build_profile(ref, numeric=["x"], categorical=["c"])
    >>> batch = pd.DataFrame({"x": [5.0, 12.0, 0.01, None], "c": ["a", "a", "b", "z"]})
    >>> in_support(profile, batch, coverage=0.98).tolist()
    [True, False, False, False]
    """
    if not 0.0 < coverage <= 1.0:
        raise DriftError(f"support coverage must be in (0, 1], got {coverage}")
    inside = np.ones(len(batch), dtype=bool)
    tail = (1.0 - coverage) / 2.0
    for name, values in profile.numeric.items():
        if name not in batch.columns or len(values) == 0:
            continue
        low, high = np.quantile(values, [tail, 1.0 - tail])
        x = pd.to_numeric(batch[name], errors="coerce").to_numpy(dtype="float64")
        inside &= np.isnan(x) | ((x >= low) & (x <= high))
    for name, counts in profile.categorical.items():
        if name in batch.columns:
            seen = {key for key, count in counts.items() if count > 0}
            inside &= batch[name].astype("string").isin(seen).to_numpy(dtype=bool)
    return inside
