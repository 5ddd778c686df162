"""A CSV no bigger than one read block is read whole; it reads as the block-by-block reader does."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from driftloop.ingest.fingerprint import fingerprint
from driftloop.ingest.read import iter_chunks


def _chunks(path: Path, block_mib: int) -> list[pd.DataFrame]:
    with path.open("rb") as fh:
        fp = fingerprint(fh, text=True)
    opener = lambda: path.open("rb")  # noqa: E731
    return list(iter_chunks(path.name, "csv", opener, fp, block_mib, numeric=["x", "y"]))


def _write(path: Path, rows: int, bad_cell: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "y": rng.integers(0, 9, rows).astype(str),
            "c": rng.choice(["red", "green", "blue, dark"], rows),
        }
    )
    if bad_cell:  # the column stays text, so validation can count and name the cell
        frame.loc[7, "y"] = "seven"
    frame.loc[8, "c"] = None
    frame.to_csv(path, index=False)
    return frame


def test_a_csv_read_whole_gives_the_frame_the_block_by_block_reader_gives(tmp_path: Path) -> None:
    path = tmp_path / "b.csv"
    _write(path, 60_000)
    assert 1 << 20 < path.stat().st_size < 16 << 20
    whole = _chunks(path, block_mib=16)
    blocks = _chunks(path, block_mib=1)
    assert (len(whole), len(blocks) > 1) == (1, True)
    joined = pd.concat(blocks, ignore_index=True)
    pd.testing.assert_frame_equal(whole[0], joined)
    assert (whole[0]["x"].dtype, whole[0]["y"].dtype) == (np.dtype("float64"), np.dtype("float64"))
    assert pd.isna(whole[0].loc[8, "c"])


def test_a_numeric_column_with_a_bad_cell_read_whole_stays_text(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    written = _write(path, 1000, bad_cell=True)
    (frame,) = _chunks(path, block_mib=16)
    assert (frame.loc[7, "y"], frame.loc[9, "y"]) == ("seven", written.loc[9, "y"])
    assert not pd.api.types.is_numeric_dtype(frame["y"]) and frame["x"].dtype == "float64"


def test_a_field_longer_than_a_parse_block_in_a_small_csv_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text("x,y,c\n1,2," + "z" * (2 << 20) + "\n" + "3,4,k\n" * 100, "utf-8")
    (frame,) = _chunks(path, block_mib=4)
    assert (len(frame), len(frame.loc[0, "c"]), frame.loc[100, "x"]) == (101, 2 << 20, 3.0)


def test_a_header_alone_read_whole_gives_no_block_as_the_block_reader_does(tmp_path: Path) -> None:
    path = tmp_path / "head.csv"
    path.write_text("x,y,c\n", "utf-8")
    assert _chunks(path, block_mib=1) == []
