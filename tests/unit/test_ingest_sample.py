"""Large batches in bounded memory: a seeded uniform row sample kept over blocks."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, admit
from driftloop.ingest.admit import ACCEPTED
from driftloop.ingest.sample import RowSample
from driftloop.ingest.schema import Rules
from driftloop.ingest.validate import validate_chunks
from tests.helpers import Project, make_project


def _rows(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame({"v": np.arange(start, start + n)}, index=pd.RangeIndex(start, start + n))


def _sample(limit: int | None, sizes: list[int], seed: int = 5) -> RowSample:
    s, at = RowSample(limit, seed), 0
    for n in sizes:
        s.add(_rows(n, at))
        at += n
    return s


def test_sample_is_bounded_uniform_and_independent_of_blocking() -> None:
    a = _sample(1000, [7000] * 4)
    b = _sample(1000, [1, 999, 12000, 15000])
    assert a.seen == b.seen == 28000 and a.sampled
    assert a.frame().equals(b.frame())  # same rows whatever the block sizes
    got = a.frame()["v"].to_numpy()
    assert len(got) == 1000 and len(set(got)) == 1000 and np.all(np.diff(got) > 0)
    # Uniform: each quarter of the batch holds about a quarter of the sample.
    quarters = np.bincount(got // 7000, minlength=4)
    assert quarters.min() > 200 and quarters.max() < 300, quarters
    assert not _sample(1000, [300, 700]).sampled  # small batches are kept whole, in order
    assert _sample(1000, [300, 700]).frame()["v"].tolist() == list(range(1000))
    assert not _sample(1000, [300, 700], seed=6).frame().equals(_sample(1000, [2000]).frame())


def _big_batch(project: Project, rows: int) -> Path:
    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "x1": rng.normal(size=rows),
            "x2": rng.normal(size=rows),
            "x3": rng.uniform(-2, 2, rows),
            "c1": rng.choice(["a", "b", "c"], rows),
            "c2": rng.choice(["low", "mid", "high"], rows),
            "label": rng.integers(0, 2, rows),
        }
    )
    return project.drop(frame, "big.csv")


def _admit(tmp: Path, sample_rows: int, rows: int, block_mib: int = 1) -> tuple[int, pd.DataFrame]:
    tmp.mkdir()
    extra = f"[ingest]\nblock_mib = {block_mib}\nsample_rows = {sample_rows}\n"
    project = make_project(tmp, extra)
    path = _big_batch(project, rows)
    cfg = load_config(project.config)
    adm = admit(path, cfg, Ledger(cfg.ledger_url))
    assert adm.status == ACCEPTED and adm.frame is not None
    return adm.rows, adm.frame


def test_admit_keeps_a_seeded_sample_of_a_large_batch(tmp_path: Path) -> None:
    rows = 60_000  # about 3 MB of CSV, read in 1 MiB blocks
    n, frame = _admit(tmp_path / "a", 2000, rows)
    n_whole, everything = _admit(tmp_path / "b", 10**9, rows)
    assert n == n_whole == rows and len(everything) == rows
    assert len(frame) == 2000 and list(frame.columns) == list(everything.columns)
    assert frame.dtypes.equals(everything.dtypes)
    # Drawn from every part of the file, not just its first blocks.
    assert frame["x3"].between(-2, 2).all() and abs(frame["x1"].mean()) < 0.1
    assert frame["x1"].isin(everything["x1"].iloc[rows // 2 :]).sum() > 800
    # Seeded by the content: the same file gives the same sample, whatever the block size.
    assert _admit(tmp_path / "c", 2000, rows, block_mib=2)[1].equals(frame)


def _chunks(count: int, rows: int = 5000) -> Iterator[pd.DataFrame]:
    rng = np.random.default_rng(3)
    for _ in range(count):
        yield pd.DataFrame(
            {
                "x1": rng.normal(size=rows),
                "c1": rng.choice(["a", "b", "c"], rows).astype(object),
                "label": rng.integers(0, 2, rows),
            }
        )


def _peak(count: int, sample_rows: int | None) -> int:
    rules = Rules(["x1"], ["c1"], "label")
    validate_chunks(_chunks(2), "warm.csv", rules, True, sample_rows)  # lazy imports first
    tracemalloc.start()
    frame, rows = validate_chunks(_chunks(count), "b.csv", rules, True, sample_rows)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert rows == count * 5000 and len(frame) == min(rows, sample_rows or rows)
    return peak


def test_validation_memory_does_not_grow_with_the_batch() -> None:
    """Ingest's own memory: one block plus the sample, for 20 blocks as for 80."""
    small, large = _peak(20, 500), _peak(80, 500)
    whole = _peak(80, None)
    extra = 60 * int(next(_chunks(1)).memory_usage(deep=True).sum())
    # The 60 more blocks (about 7 MiB of data) add under a tenth of their size: no growth with
    # the data. (Measured: under 1 KiB of bookkeeping per block; tracemalloc also counts what
    # other threads of a test process allocate meanwhile, some hundred KiB at times.)
    assert large - small < extra // 10, (
        f"{large >> 10} KiB for 80 blocks vs {small >> 10} KiB for 20 ({extra >> 10} KiB more data)"
    )
    assert large < 0.25 * whole, f"{large >> 10} KiB sampled vs {whole >> 10} KiB whole"
