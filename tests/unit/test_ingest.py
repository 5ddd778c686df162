"""Ingest: every bad batch ends in quarantine with its own reason; good ones are accepted once."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, Zone, admit, complete
from driftloop.ingest.admit import ACCEPTED, DUPLICATE, PROCESSED, QUARANTINED
from tests.helpers import Project


def _good(project: Project, n: int = 50) -> pd.DataFrame:
    return project.stream.batches[0].frame.head(n).copy()


def _admit(project: Project, path: Path):
    cfg = load_config(project.config)
    return admit(path, cfg, Ledger(cfg.ledger_url)), cfg


def _reason(adm) -> str:
    return Path(adm.destination + ".reason.txt").read_text(encoding="utf-8")


def test_good_csv_and_parquet_are_accepted_with_model_types(project: Project) -> None:
    for name in ("b.csv", "b.parquet"):
        adm, _ = _admit(project, project.drop(_good(project), name))
        assert adm.status == ACCEPTED and adm.rows == 50 and adm.has_labels
        assert adm.frame is not None
        assert adm.frame["x1"].dtype == "float64"
        assert set(adm.frame["c1"]) <= {"a", "b", "c", "d"}


def test_unlabelled_batch_is_accepted_without_labels(project: Project) -> None:
    adm, _ = _admit(project, project.drop(_good(project).drop(columns="label"), "u.csv"))
    assert adm.status == ACCEPTED and not adm.has_labels


BAD_CASES = {
    "missing_column": (lambda f: f.drop(columns="x2"), "missing column(s) ['x2']"),
    "wrong_type": (
        lambda f: f.assign(x1=["oops"] * 3 + [*f["x1"][3:]]),
        "column 'x1' must be numeric, but 3 of 50 row(s) are not numbers (e.g. 'oops'",
    ),
    "infinity": (lambda f: f.assign(x3=[np.inf, *f["x3"][1:]]), "'x3' holds 1 infinite"),
    "all_nan": (lambda f: f.assign(x2=np.nan), "column 'x2' is empty in all 50 rows"),
    "missing_label": (
        lambda f: f.assign(label=[None] * 2 + [*f["label"][2:]]),
        "target column 'label' is empty in 2 row(s)",
    ),
    "too_few_rows": (lambda f: f.head(5), "5 row(s), fewer than [ingest] min_rows = 20"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_batches_go_to_quarantine_with_their_reason(project: Project, case: str) -> None:
    change, expected = BAD_CASES[case]
    path = project.drop(change(_good(project)), f"{case}.csv")
    adm, cfg = _admit(project, path)
    assert adm.status == QUARANTINED
    assert not path.exists()
    assert Path(adm.destination).parent == cfg.quarantine_dir
    assert Path(adm.destination).is_file()
    reason = _reason(adm)
    assert expected in reason and f"{case}.csv" in reason
    entry = Ledger(cfg.ledger_url).find(adm.sha256)
    assert entry is not None and entry.status == QUARANTINED and entry.reason == adm.reason


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("empty.csv", b"", "the file is empty"),
        ("garbage.parquet", b"PAR1 not really parquet", "not a complete Parquet file"),
        ("latin1.csv", "x1,x2\n\xe9t\xe9,1\n".encode("latin-1"), "not UTF-8 text"),
        ("notes.txt", b"hello", "unsupported file type '.txt'"),
        ("dupes.csv", b"x1,x1,x2,x3,c1,c2\n1,2,3,4,a,low\n", "duplicate column names ['x1']"),
    ],
)
def test_unreadable_files_are_quarantined(
    project: Project, name: str, content: bytes, expected: str
) -> None:
    landing = project.work / "landing"
    landing.mkdir(parents=True)
    (landing / name).write_bytes(content)
    adm, _ = _admit(project, landing / name)
    assert adm.status == QUARANTINED
    assert expected in _reason(adm)


def test_extra_columns_ignored_or_rejected_per_config(project: Project) -> None:
    adm, _ = _admit(project, project.drop(_good(project).assign(note="x"), "extra.csv"))
    assert adm.status == ACCEPTED and adm.frame is not None and "note" not in adm.frame
    text = project.config.read_text() + '\n[ingest]\nextra_columns = "reject"\n'
    project.config.write_text(text)
    adm, _ = _admit(project, project.drop(_good(project).assign(note="y"), "extra2.csv"))
    assert adm.status == QUARANTINED
    assert "unexpected column(s) ['note']" in _reason(adm)


def test_same_content_twice_is_a_duplicate_and_not_processed(project: Project) -> None:
    frame = _good(project)
    first, cfg = _admit(project, project.drop(frame, "one.csv"))
    ledger = Ledger(cfg.ledger_url)
    complete(first, cfg, ledger, {"action": "none"})
    assert first.status == PROCESSED and Path(first.destination).parent == cfg.processed_dir
    again, _ = _admit(project, project.drop(frame, "one-again.csv"))
    assert again.status == DUPLICATE and again.frame is None
    assert "same content" in again.reason and "one.csv" in again.reason
    assert [e.status for e in ledger.recent()] == [DUPLICATE, PROCESSED]


def test_pending_is_oldest_first_and_skips_files_being_written(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    for i, name in enumerate(["b.csv", "a.csv", ".c.csv.tmp", "d.csv.part", "e.parquet"]):
        (landing / name).write_text("x")
        os.utime(landing / name, ns=(10**9 * (100 - i), 10**9 * (100 - i)))
    (landing / "sub").mkdir()
    zone = Zone(str(tmp_path))
    assert [Path(p).name for p in zone.pending()] == ["e.parquet", "a.csv", "b.csv"]
    assert Zone(str(tmp_path / "missing")).pending() == []
    (landing / "fresh.csv").write_text("x")
    assert "fresh.csv" not in [Path(p).name for p in Zone(str(tmp_path), 60).pending()]
