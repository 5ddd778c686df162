"""Read a batch file (CSV or Parquet) into a data frame, with errors that name the file."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from driftloop.errors import IngestError

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def batch_format(path: Path) -> str | None:
    """Return "csv" or "parquet" for a supported batch file name, else None."""
    return SUFFIXES.get(path.suffix.lower())


def _check_csv_header(path: Path) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh), [])
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise IngestError(f"{path.name}: duplicate column names {dupes}; give each column one name")


def read_table(path: Path, categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Read a CSV or Parquet batch; categorical columns of a CSV are read as text."""
    fmt = batch_format(path)
    if fmt is None:
        raise IngestError(
            f"{path.name}: unsupported file type {path.suffix!r}; "
            f"save batches as one of {sorted(SUFFIXES)}"
        )
    try:
        if fmt == "csv":
            _check_csv_header(path)
            frame = pd.read_csv(path, dtype={c: "str" for c in categorical})
        else:
            frame = pd.read_parquet(path)
    except IngestError:
        raise
    except pd.errors.EmptyDataError:
        raise IngestError(
            f"{path.name}: the file is empty; the producer wrote no header and no rows"
        ) from None
    except UnicodeDecodeError as err:
        raise IngestError(
            f"{path.name}: not UTF-8 text ({err.reason} at byte {err.start}); "
            "re-export the file as UTF-8 CSV"
        ) from None
    except (pd.errors.ParserError, ValueError, OSError) as err:
        raise IngestError(f"{path.name}: cannot be read as {fmt}: {err}") from None
    except Exception as err:  # pyarrow raises its own hierarchy for corrupt Parquet
        raise IngestError(f"{path.name}: cannot be read as {fmt}: {err}") from None
    dupes = sorted({str(c) for c in frame.columns if list(frame.columns).count(c) > 1})
    if dupes:
        raise IngestError(f"{path.name}: duplicate column names {dupes}; give each column one name")
    return frame
