"""Read a batch (CSV, Parquet, JSON Lines) chunk by chunk with pyarrow; errors name the file.

CSV columns are read as text and converted by validation, so one bad cell is counted and
reported instead of failing the whole read. Parquet is read by row group batches, CSV and
JSON Lines by blocks of ``[ingest] block_mib`` (JSON Lines line by line, ``jsonl.py``):
memory holds one chunk at a time.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from driftloop.core.errors import IngestError
from driftloop.ingest.fingerprint import Fingerprint
from driftloop.ingest.jsonl import json_chunks

SUFFIXES = {
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
TEXT_FORMATS = ("csv", "jsonl")
PARQUET_BATCH_ROWS = 65_536
WHOLE_FILE_BLOCK = 1 << 20
"""Parse blocks of a CSV read whole: its threads share them."""
Opener = Callable[[], BinaryIO]


def batch_format(path: str | Path) -> str | None:
    """Return "csv", "parquet" or "jsonl" for a supported batch file name, else None."""
    return SUFFIXES.get(Path(str(path)).suffix.lower())


def require_format(name: str) -> str:
    """The batch's format, or an IngestError naming the supported suffixes."""
    fmt = batch_format(name)
    if fmt is None:
        raise IngestError(
            f"{name}: unsupported file type {Path(name).suffix!r}; "
            f"save batches as one of {sorted(SUFFIXES)}"
        )
    return fmt


def check_bytes(name: str, fmt: str, fp: Fingerprint) -> None:
    """File-level verdicts from the fingerprint: empty, binary, not UTF-8."""
    if fp.size == 0:
        raise IngestError(
            f"{name}: the file is empty (0 bytes); the producer wrote no header and no rows. "
            "Re-send the batch with its data."
        )
    if fmt in TEXT_FORMATS and fp.nul_offset >= 0:
        raise IngestError(
            f"{name}: holds binary data (a NUL byte at offset {fp.nul_offset}), not {fmt} text; "
            "check the producer's export format (a compressed or binary file named as text?)."
        )
    if fmt in TEXT_FORMATS and fp.utf8_error:
        raise IngestError(
            f"{name}: not UTF-8 text ({fp.utf8_error}); re-export the file as UTF-8 {fmt}."
        )


def csv_header(name: str, opener: Opener, block: int) -> list[str]:
    """The CSV header, checked for duplicate names and a wrong delimiter."""
    with opener() as fh:
        head = fh.read(block)
    line = head.split(b"\n", 1)[0].decode("utf-8", "replace")
    header = next(csv.reader(io.StringIO(line)), [])
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        raise IngestError(f"{name}: duplicate column names {dupes}; give each column one name")
    if len(header) == 1:
        for delim, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if header[0].count(delim) >= 1:
                raise IngestError(
                    f"{name}: the header is one column {header[0][:60]!r}: the file is "
                    f"delimited by {label}, driftloop reads comma-separated values. "
                    "Re-export with ',' as the delimiter."
                )
    return header


def _csv_error(name: str, err: Exception, fp: Fingerprint, block_mib: int) -> IngestError:
    text = str(err)
    if "straddl" in text:
        return IngestError(
            f"{name}: one field is larger than the {block_mib} MiB read block (an unclosed "
            "quote or a corrupt export); fix the producer, or raise [ingest] block_mib if "
            "values that large are real."
        )
    cols = re.search(r"Expected (\d+) columns, got (\d+)", text)
    if cols and not fp.ends_with_newline:
        return IngestError(
            f"{name}: the last row is cut off ({cols.group(2)} of {cols.group(1)} fields, no "
            "final newline): the file is partially written or truncated. Producers must write "
            f"to .{name}.tmp and rename when done; re-send the whole file."
        )
    if cols:
        return IngestError(
            f"{name}: a row has {cols.group(2)} field(s) where the header has {cols.group(1)} "
            f"({text.splitlines()[-1][:120]}); quote values that hold a comma, or fix the row."
        )
    return IngestError(f"{name}: cannot be read as csv: {text[:300]}")


def _as_numbers(table: pa.Table, numeric: Sequence[str]) -> pd.DataFrame:
    """Cast numeric text columns in pyarrow (fast); a column with a bad cell stays text."""
    arrays = []
    for name, col in zip(table.schema.names, table.columns, strict=True):
        if name in numeric:
            # A column with a bad cell stays text: validation counts and names the bad cells.
            with contextlib.suppress(pa.ArrowInvalid, pa.ArrowNotImplementedError):
                col = col.cast(pa.float64())
        arrays.append(col)
    return pa.Table.from_arrays(arrays, names=table.schema.names).to_pandas()


def _read_table(opener: Opener, conv: pacsv.ConvertOptions, block: int) -> pa.Table:
    with opener() as fh:
        opts = pacsv.ReadOptions(block_size=block)
        return pacsv.read_csv(fh, read_options=opts, convert_options=conv)


def _read_whole(opener: Opener, conv: pacsv.ConvertOptions, block: int) -> pa.Table:
    """A CSV of at most one block, parsed on every core in small blocks (the streaming reader
    parses on one); a row longer than a small block is read again in one block."""
    small = min(block, WHOLE_FILE_BLOCK)
    try:
        return _read_table(opener, conv, small)
    except pa.ArrowInvalid as err:
        if small == block or "straddl" not in str(err):
            raise
    return _read_table(opener, conv, block)


def _csv_chunks(
    opener: Opener, header: Sequence[str], block: int, numeric: Sequence[str], size: int
) -> Iterator[pd.DataFrame]:
    """The CSV as frames of one block each (one frame when the file fits in one block)."""
    conv = pacsv.ConvertOptions(
        column_types={c: pa.string() for c in header}, strings_can_be_null=True
    )
    if size <= block:
        table = _read_whole(opener, conv, block)
        if table.num_rows:  # as the streaming reader: a header alone gives no block
            yield _as_numbers(table, numeric)
        return
    with opener() as fh:
        reader = pacsv.open_csv(
            fh, read_options=pacsv.ReadOptions(block_size=block), convert_options=conv
        )
        for batch in reader:
            yield _as_numbers(pa.Table.from_batches([batch]), numeric)


def _parquet_chunks(name: str, opener: Opener) -> Iterator[pd.DataFrame]:
    with opener() as fh:
        try:
            pf = pq.ParquetFile(fh)
        except (pa.ArrowException, OSError, ValueError) as err:
            raise IngestError(
                f"{name}: not a complete Parquet file ({err}); it is truncated or corrupt. "
                f"Re-send the whole file (write to .{name}.tmp, then rename)."
            ) from None
        names = pf.schema_arrow.names
        dupes = sorted({c for c in names if names.count(c) > 1})
        if dupes:
            raise IngestError(f"{name}: duplicate column names {dupes}; give each column one name")
        for batch in pf.iter_batches(batch_size=PARQUET_BATCH_ROWS):
            yield batch.to_pandas()


def _json_chunks(name: str, opener: Opener, block: int) -> Iterator[pd.DataFrame]:
    with opener() as fh:
        yield from json_chunks(name, fh, block)


def iter_chunks(
    name: str,
    fmt: str,
    opener: Opener,
    fp: Fingerprint,
    block_mib: int = 16,
    numeric: Sequence[str] = (),
) -> Iterator[pd.DataFrame]:
    """Yield the batch as data frames of one block or row group each (CSV `numeric` as floats)."""
    check_bytes(name, fmt, fp)
    block = block_mib << 20
    try:
        if fmt == "csv":
            header = csv_header(name, opener, block)
            yield from _csv_chunks(opener, header, block, numeric, fp.size)
        elif fmt == "parquet":
            yield from _parquet_chunks(name, opener)
        else:
            yield from _json_chunks(name, opener, block)
    except IngestError:
        raise
    except (pa.ArrowException, OSError, ValueError) as err:
        if fmt == "csv":
            raise _csv_error(name, err, fp, block_mib) from None
        raise IngestError(f"{name}: cannot be read as {fmt}: {str(err)[:300]}") from None


def infer_numbers(values: pd.Series) -> pd.Series:
    """Text that is all numbers becomes int64 or float64 (as pandas.read_csv would); else as is."""
    if pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return values
    try:
        numbers = pd.to_numeric(values)
    except (ValueError, TypeError):
        return values
    return numbers


def read_table(path: str | Path, categorical: Sequence[str] = ()) -> pd.DataFrame:
    """Read a whole local batch file; CSV columns not listed as categorical become numbers."""
    from driftloop.ingest.fingerprint import fingerprint

    p = Path(path)
    fmt = require_format(p.name)
    with p.open("rb") as fh:
        fp = fingerprint(fh, fmt in TEXT_FORMATS)
    chunks = list(iter_chunks(p.name, fmt, lambda: p.open("rb"), fp))
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    if fmt == "csv":
        for col in frame.columns:
            if col not in categorical:
                frame[col] = infer_numbers(frame[col])
    return frame
