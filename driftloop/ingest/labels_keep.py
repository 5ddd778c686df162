"""The rows of an unlabelled batch kept for its late labels: one Parquet file per batch.

What is kept is what processing used: the batch's validated rows, or for a batch over
`[ingest] sample_rows` rows its seeded sample of that many. Labels of ids outside the kept
rows are stored but never joined to the batch (its labelled share counts kept rows only).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from driftloop.core.errors import IngestError
from driftloop.ingest.labels_join import Joined, id_text, join_labels
from driftloop.ingest.labels_store import KeptBatch, LabelStore


def save_kept(folder: Path, sha256: str, frame: pd.DataFrame) -> Path:
    """Write a batch's kept rows whole or not at all (a temporary file, then one rename)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sha256}.parquet"
    tmp = folder / f".{sha256}.parquet.tmp"
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return path


def load_kept(path: str) -> pd.DataFrame:
    """The kept rows of a batch, or an IngestError naming the file and the fix."""
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as err:
        raise IngestError(
            f"{path}: the rows kept for late labels cannot be read ({err}); the batch's labels "
            "cannot be joined. Drop the batch into the landing folder again after "
            "`driftloop requeue`, or delete its row in driftloop_label_batches."
        ) from None


def keep_rows(
    store: LabelStore, model: str, folder: Path, batch: tuple[str, str, int], frame: pd.DataFrame
) -> KeptBatch:
    """Keep a processed batch's rows (`batch`: name, hash, row count) until its labels come."""
    name, sha256, rows = batch
    path = save_kept(folder, sha256, frame)
    kept = KeptBatch(sha256, name, rows, len(frame), str(path), 0, False)
    store.keep_batch(model, kept)
    return kept


def join_kept(
    store: LabelStore, model: str, batch: KeptBatch, id_column: str, target: str
) -> Joined:
    """A kept batch's rows joined to every label stored for their ids."""
    kept = load_kept(batch.path)
    ids = id_text(kept[id_column]).unique().tolist()
    return join_labels(kept, store.labels_for(model, ids), id_column, target)
