"""A seeded uniform row sample of a batch read block by block, in bounded memory.

Every row gets a uniform random key (one stream of draws in row order, so the sample does not
depend on the block size); the rows with the `limit` smallest keys are a uniform sample
without replacement. Memory holds at most `limit` kept rows plus the block being added. A
batch with at most `limit` rows is kept whole, in file order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


class RowSample:
    """At most `limit` rows drawn uniformly from every block added (all rows if limit is None)."""

    def __init__(self, limit: int | None, seed: int = 0) -> None:
        self.limit = limit
        self.rng = np.random.default_rng(seed)
        self.parts: list[pd.DataFrame] = []
        self.keys: list[np.ndarray] = []
        self.kept = 0
        self.seen = 0

    def add(self, block: pd.DataFrame) -> None:
        """Offer every row of a block (its index: the rows' positions in the batch)."""
        self.seen += len(block)
        self.parts.append(block)
        self.keys.append(self.rng.random(len(block)))
        self.kept += len(block)
        if self.limit is not None and self.kept > self.limit:
            pool = pd.concat(self.parts)
            keys = np.concatenate(self.keys)
            best = np.sort(np.argpartition(keys, self.limit - 1)[: self.limit])
            self.parts, self.keys = [pool.iloc[best]], [keys[best]]
            self.kept = self.limit

    @property
    def sampled(self) -> bool:
        """True when rows were left out (the batch is larger than the limit)."""
        return self.seen > self.kept

    def frame(self) -> pd.DataFrame:
        """The kept rows in batch order, with a fresh 0..n-1 index."""
        if not self.parts:
            return pd.DataFrame()
        return pd.concat(self.parts).sort_index().reset_index(drop=True)
