"""Read JSON Lines by blocks, one JSON object per line, with errors that name the line.

pyarrow's streaming JSON reader fixes its schema from the first block, so a key that first
appears later fails the file ("unexpected field") although the same file read in one block
passes, and a number in a text column fails it too. Here each line is parsed on its own and
each block becomes a data frame of the keys it holds; validation (``validate.py``) takes a key
absent from a block as empty cells and a key absent from the whole file as a missing column,
so the outcome is the same whatever ``[ingest] block_mib``. Unseen keys are extra columns
(``[ingest] extra_columns``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO

import pandas as pd

from driftloop.core.errors import IngestError

BLOCK_ROWS = 65_536  # rows per chunk at most: parsed objects take far more memory than bytes
EXAMPLE = '{"x1": 1.5, "c1": "a"}'


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, str):
        return "a JSON string"
    if value is None or isinstance(value, bool):
        return f"the JSON literal {json.dumps(value)}"
    return "a JSON number"


def _parse(name: str, line: bytes, number: int, last: bool) -> dict[str, Any]:
    try:
        value = json.loads(line)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        if last and not line.endswith(b"\n"):
            raise IngestError(
                f"{name}: cannot be read as jsonl: the last line ({number}) is cut off, no final "
                "newline: the file is partially written or truncated. Producers must write to "
                f".{name}.tmp and rename when done; re-send the whole file."
            ) from None
        msg = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
        raise IngestError(
            f"{name}: cannot be read as jsonl: line {number} is not valid JSON ({msg}); each "
            f"line must be one JSON object such as {EXAMPLE}."
        ) from None
    if not isinstance(value, dict):
        whole = " (the file holds one JSON array: write one object per line instead, e.g. "
        whole += "pandas to_json(orient='records', lines=True))" if isinstance(value, list) else ""
        raise IngestError(
            f"{name}: cannot be read as jsonl: line {number} is {_kind(value)}, not an object; "
            f"JSON Lines holds one object per line, such as {EXAMPLE}{whole}."
        )
    return value


def json_chunks(name: str, fh: BinaryIO, block: int) -> Iterator[pd.DataFrame]:
    """Yield data frames of at most `block` bytes (and BLOCK_ROWS rows) of JSON Lines."""
    rows: list[dict[str, Any]] = []
    size, number, objects = 0, 0, 0
    while line := fh.readline(block + 1):
        number += 1
        if len(line) > block and not line.endswith(b"\n"):
            raise IngestError(
                f"{name}: line {number} is larger than the {block >> 20} MiB read block (a "
                "missing newline or a corrupt export); fix the producer, or raise [ingest] "
                "block_mib if lines that large are real."
            )
        if not line.strip():
            continue
        rows.append(_parse(name, line, number, not line.endswith(b"\n")))
        objects += 1
        size += len(line)
        if size >= block or len(rows) >= BLOCK_ROWS:
            yield pd.DataFrame.from_records(rows)
            rows, size = [], 0
    if rows:
        yield pd.DataFrame.from_records(rows)
    if not objects:
        raise IngestError(
            f"{name}: holds no JSON object, only {number} blank line(s); the producer wrote no "
            "rows. Re-send the batch with its data."
        )
