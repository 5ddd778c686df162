"""The replay buffer: a bounded uniform sample of all labelled rows seen, kept per version."""

from __future__ import annotations

import numpy as np
import pandas as pd


def merge_replay(
    buffer: pd.DataFrame, seen: int, batch: pd.DataFrame, capacity: int, seed: int
) -> tuple[pd.DataFrame, int]:
    """Reservoir-merge a batch into a buffer that samples `seen` rows; return (buffer, new seen).

    Every row seen so far ends up in the new buffer with the same probability, as in
    reservoir sampling, without rereading earlier batches.

    Examples:
        >>> old = pd.DataFrame({"v": range(10)})
        >>> new = pd.DataFrame({"v": range(100, 130)})
        >>> merged, seen = merge_replay(old, 10, new, capacity=8, seed=0)
        >>> len(merged), seen
        (8, 40)
    """
    total = seen + len(batch)
    if capacity <= 0 or total == 0:
        return batch.iloc[0:0].reset_index(drop=True), total
    rng = np.random.default_rng(seed)
    if total <= capacity:
        merged = pd.concat([buffer, batch], ignore_index=True)
        return merged, total
    k = capacity
    n_new = int(rng.hypergeometric(len(batch), seen, k)) if seen else k
    n_new = min(n_new, len(batch))
    n_old = min(k - n_new, len(buffer))
    new_rows = batch.iloc[np.sort(rng.choice(len(batch), n_new, replace=False))]
    old_rows = buffer.iloc[np.sort(rng.choice(len(buffer), n_old, replace=False))]
    return pd.concat([old_rows, new_rows], ignore_index=True), total


def replay_sample(buffer: pd.DataFrame, new_rows: int, fraction: float, seed: int) -> pd.DataFrame:
    """Rows of the buffer to mix with `new_rows` new rows so replay is `fraction` of the mix."""
    if fraction <= 0 or buffer.empty:
        return buffer.iloc[0:0]
    want = min(len(buffer), round(new_rows * fraction / (1.0 - fraction)))
    rng = np.random.default_rng(seed)
    return buffer.iloc[np.sort(rng.choice(len(buffer), want, replace=False))].reset_index(drop=True)
