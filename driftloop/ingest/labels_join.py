"""The join of late labels to a batch's kept rows: which label each id gets, and what clashed.

Pure pandas. Every label row ever stored for an id counts: a row repeating the label an id
already has is a duplicate; an id given two or more different labels is a conflict, and the
label that arrived last (the label file admitted last; within a file, its last row) is used.
Labels are compared in their canonical form (``1``, ``1.0`` and ``"1"`` are one class).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from driftloop.core.labels import canonical_labels

CONFLICT_EXAMPLES = 5


def id_text(values: pd.Series) -> pd.Series:
    """Row ids as text, the one form both sides of the join use (whole floats as integers)."""
    if pd.api.types.is_float_dtype(values.dtype):
        whole = values.notna() & (values == np.floor(values)) & (values.abs() < 2.0**53)
        if bool(whole.all()):
            return values.astype("int64").astype("str").astype("object")
    return values.astype("str").astype("object")


@dataclass(frozen=True)
class Joined:
    """A batch's kept rows that have a label, and what the join found on the way."""

    frame: pd.DataFrame
    duplicates: int = 0
    conflicts: int = 0
    conflict_ids: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    label_rows: int = 0  # label rows stored for the batch's ids (a repeat or a clash counts)

    @property
    def labelled(self) -> int:
        """How many kept rows got a label."""
        return len(self.frame)


def chosen_labels(labels: pd.DataFrame) -> tuple[pd.DataFrame, int, list[str]]:
    """The label used per id (the last to arrive), the duplicate row count and conflicting ids.

    `labels` holds `seq` (arrival order), `row_id` and `label` (text).
    """
    ordered = labels.sort_values("seq", kind="stable")
    keys = canonical_labels(ordered["label"]).astype("str")
    pairs = pd.DataFrame({"row_id": ordered["row_id"].to_numpy(), "key": keys.to_numpy()})
    duplicates = int(pairs.duplicated().sum())
    distinct = pairs.drop_duplicates().groupby("row_id")["key"].nunique()
    conflicting = sorted(str(i) for i in distinct[distinct > 1].index)
    last = ordered.drop_duplicates("row_id", keep="last")[["row_id", "label"]]
    return last, duplicates, conflicting


def join_labels(kept: pd.DataFrame, labels: pd.DataFrame, id_column: str, target: str) -> Joined:
    """The kept rows whose id has a label, with the label in `target` (rows keep their order)."""
    if labels.empty:
        return Joined(kept.iloc[0:0].assign(**{target: pd.Series(dtype=object)}))
    last, duplicates, conflicting = chosen_labels(labels)
    frame = kept.drop(columns=[target], errors="ignore").reset_index(drop=True)
    ids = id_text(frame[id_column])
    got = ids.map(dict(zip(last["row_id"], last["label"], strict=True)))
    frame = frame.loc[got.notna().to_numpy()].copy()
    frame[target] = canonical_labels(got.dropna().reset_index(drop=True)).to_numpy()
    seen = set(ids)
    used = labels[labels["row_id"].isin(seen)]
    files = list(dict.fromkeys(used.sort_values("seq")["file_sha256"].tolist()))
    in_batch = [i for i in conflicting if i in seen]
    return Joined(
        frame.reset_index(drop=True),
        duplicates,
        len(in_batch),
        in_batch[:CONFLICT_EXAMPLES],
        files,
        len(used),
    )
