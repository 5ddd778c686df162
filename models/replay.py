"""The replay buffer: a bounded reservoir sample of every labelled row seen, kept per version.

For a classifier the reservoir is stratified by class: each class keeps its own reservoir of
an equal share of the capacity, so a rare class is not crowded out of the buffer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftloop.core.labels import label_keys

ALL = "__all__"


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
    return _merge_rows(buffer, seen, batch, np.arange(len(batch)), capacity, seed)


def _merge_rows(
    buffer: pd.DataFrame,
    seen: int,
    batch: pd.DataFrame,
    rows: np.ndarray,
    capacity: int,
    seed: int,
) -> tuple[pd.DataFrame, int]:
    """`merge_replay` of the batch's rows at positions `rows` (one class's), copying only those
    sampled."""
    total = seen + len(rows)
    if capacity <= 0 or total == 0:
        return batch.iloc[0:0].reset_index(drop=True), total
    rng = np.random.default_rng(seed)
    if total <= capacity:
        return _concat(buffer, batch.iloc[rows]), total
    n_new = int(rng.hypergeometric(len(rows), seen, capacity)) if seen else capacity
    n_new = min(n_new, len(rows))
    n_old = min(capacity - n_new, len(buffer))
    new_rows = batch.iloc[rows[np.sort(rng.choice(len(rows), n_new, replace=False))]]
    old_rows = buffer.iloc[np.sort(rng.choice(len(buffer), n_old, replace=False))]
    return _concat(old_rows, new_rows), total


def _concat(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """Concatenate, skipping an empty side so that it cannot change the column types."""
    parts = [p for p in (first, second) if len(p)] or [second.iloc[0:0]]
    return pd.concat(parts, ignore_index=True)


@dataclass
class ReplayBuffer:
    """Replayed rows and how many rows (per class, or in all) each reservoir has seen."""

    frame: pd.DataFrame
    seen: dict[str, int] = field(default_factory=dict)

    def add(
        self, batch: pd.DataFrame, target: str, capacity: int, seed: int, stratify: bool
    ) -> ReplayBuffer:
        """A new buffer holding a reservoir sample of everything seen plus `batch`.

        Examples:
            >>> buf = ReplayBuffer(pd.DataFrame({"y": []}))
            >>> batch = pd.DataFrame({"y": [0] * 95 + [1] * 5})
            >>> buf = buf.add(batch, "y", capacity=10, seed=0, stratify=True)
            >>> sorted(buf.frame["y"].value_counts().items()), buf.seen
            ([(0, 5), (1, 5)], {'0': 95, '1': 5})
        """
        if not stratify:
            merged, total = merge_replay(self.frame, self.seen.get(ALL, 0), batch, capacity, seed)
            return ReplayBuffer(merged, {ALL: total})
        keys_old = label_keys(self.frame[target]) if len(self.frame) else pd.Series(dtype=str)
        codes, texts = pd.factorize(label_keys(batch[target]))
        classes = sorted(set(self.seen) | set(texts))
        share = capacity // max(len(classes), 1)
        parts: list[pd.DataFrame] = []
        seen: dict[str, int] = {}
        code_of = {text: code for code, text in enumerate(texts)}
        for i, cls in enumerate(classes):
            old = self.frame[keys_old == cls] if len(self.frame) else self.frame
            rows = np.flatnonzero(codes == code_of.get(cls, -2))  # -2: a class not in the batch
            merged, seen[cls] = _merge_rows(
                old, self.seen.get(cls, 0), batch, rows, share, seed + i
            )
            parts.append(merged)
        kept = [p for p in parts if len(p)]
        frame = pd.concat(kept, ignore_index=True) if kept else batch.iloc[0:0]
        return ReplayBuffer(frame, seen)

    def seen_json(self) -> str:
        """The seen counts as a JSON text (stored as a version tag)."""
        return json.dumps(self.seen, sort_keys=True)

    @classmethod
    def from_json(cls, frame: pd.DataFrame, seen: str) -> ReplayBuffer:
        """Rebuild from the stored rows and the seen counts (a bare integer is read as all rows)."""
        data = json.loads(seen) if seen else {}
        if isinstance(data, int):
            data = {ALL: data}
        if ALL in data:
            return cls(frame, {ALL: int(data[ALL])})
        counts: dict[str, int] = {}  # per class; 1.0 and 1 (older versions) are one class
        for key, n in zip(label_keys(list(data)), data.values(), strict=True):
            counts[key] = counts.get(key, 0) + int(n)
        return cls(frame, counts)


def replay_sample(buffer: pd.DataFrame, new_rows: int, fraction: float, seed: int) -> pd.DataFrame:
    """Rows of the buffer to mix with `new_rows` new rows so replay is `fraction` of the mix."""
    if fraction <= 0 or buffer.empty:
        return buffer.iloc[0:0]
    want = min(len(buffer), round(new_rows * fraction / (1.0 - fraction)))
    rng = np.random.default_rng(seed)
    return buffer.iloc[np.sort(rng.choice(len(buffer), want, replace=False))].reset_index(drop=True)
