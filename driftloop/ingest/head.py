"""The first rows of a data file, read in bounded memory and time (for `driftloop init`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from driftloop.ingest.fingerprint import Fingerprint, fingerprint
from driftloop.ingest.read import TEXT_FORMATS, infer_numbers, iter_chunks, require_format

HEAD_ROWS = 50_000
# Larger files are not hashed or UTF-8-checked whole here: reading stops after the head.
CHECK_BYTES = 64 << 20


def _fingerprint(path: Path, text: bool) -> Fingerprint:
    size = path.stat().st_size
    if size > CHECK_BYTES:
        return Fingerprint(sha256="", size=size)
    with path.open("rb") as fh:
        return fingerprint(fh, text)


def read_head(path: str | Path, max_rows: int = HEAD_ROWS, block_mib: int = 16) -> pd.DataFrame:
    """At most `max_rows` first rows of a CSV, Parquet or JSON Lines file; CSV text as numbers."""
    p = Path(path)
    fmt = require_format(p.name)
    fp = _fingerprint(p, fmt in TEXT_FORMATS)
    chunks, rows = [], 0
    for chunk in iter_chunks(p.name, fmt, lambda: p.open("rb"), fp, block_mib):
        chunks.append(chunk.head(max_rows - rows))
        rows += len(chunks[-1])
        if rows >= max_rows:
            break
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    if fmt == "csv":
        for col in frame.columns:
            frame[col] = infer_numbers(frame[col])
    return frame
