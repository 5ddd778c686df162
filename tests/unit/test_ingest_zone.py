"""A landing zone on an fsspec URL (memory://): listing, reading, hashing, moving, recovery."""

from __future__ import annotations

import hashlib
import io
import uuid
from pathlib import Path

import fsspec
import pytest

from driftloop.core.config import load_config
from driftloop.core.errors import IngestError
from driftloop.ingest import Ledger, LedgerEntry, admit, complete, recover, zone_of
from driftloop.ingest.admit import ACCEPTED, DUPLICATE, PROCESSED, QUARANTINED
from tests.helpers import TINY_SETTINGS, make_project


@pytest.fixture
def memory_project(tmp_path: Path):  # type: ignore[no-untyped-def]
    url = f"memory://zone-{uuid.uuid4().hex[:8]}"
    project = make_project(tmp_path, TINY_SETTINGS + f'\n[ingest]\nzone = "{url}"\n')
    fs = fsspec.filesystem("memory")
    yield project, load_config(project.config), fs, url
    fs.rm(url, recursive=True)


def _put(fs, url: str, name: str, data: bytes) -> str:  # type: ignore[no-untyped-def]
    fs.pipe_file(f"{url}/landing/{name}", data)
    return f"{url}/landing/{name}"


def test_memory_zone_lists_reads_hashes_and_moves(memory_project) -> None:  # type: ignore[no-untyped-def]
    project, cfg, fs, url = memory_project
    good = project.stream.batches[0].frame.head(50)
    buf = io.BytesIO()
    good.to_parquet(buf, index=False)
    csv = good.to_csv(index=False).encode()
    _put(fs, url, "a.csv", csv)
    _put(fs, url, "b.parquet", buf.getvalue())
    _put(fs, url, "bad.csv", good.drop(columns="x1").to_csv(index=False).encode())
    _put(fs, url, ".c.csv.tmp", csv)  # still being written
    _put(fs, url, "a-copy.csv", csv)
    zone = zone_of(cfg)
    assert not zone.local and zone.landing.endswith("/landing")
    waiting = zone.pending()
    assert {p.rsplit("/", 1)[-1] for p in waiting} == {
        "a.csv",
        "b.parquet",
        "bad.csv",
        "a-copy.csv",
    }
    assert all(p.startswith("memory://") for p in waiting)
    ledger = Ledger(cfg.ledger_url)
    adm = admit(f"{url}/landing/a.csv", cfg, ledger, flow_run_id="fr-1")
    assert adm.status == ACCEPTED and adm.rows == 50
    assert adm.sha256 == hashlib.sha256(csv).hexdigest()
    complete(adm, cfg, ledger, {"action": "none"})
    assert adm.status == PROCESSED and fs.exists(f"{url}/processed/a.csv")
    assert not fs.exists(f"{url}/landing/a.csv")
    assert admit(f"{url}/landing/b.parquet", cfg, ledger).status == ACCEPTED
    bad = admit(f"{url}/landing/bad.csv", cfg, ledger)
    assert bad.status == QUARANTINED and fs.exists(f"{url}/quarantine/bad.csv")
    note = fs.cat_file(f"{url}/quarantine/bad.csv.reason.txt").decode()
    assert "missing column(s) ['x1']" in note
    dup = admit(f"{url}/landing/a-copy.csv", cfg, ledger)
    assert dup.status == DUPLICATE and "as a.csv" in dup.reason
    (first,) = [e for e in ledger.recent() if e.batch == "a.csv"]
    assert first.flow_run_id == "fr-1" and first.rows == 50
    assert first.destination.endswith("/processed/a.csv")


def test_memory_zone_refuses_paths_outside_landing(memory_project) -> None:  # type: ignore[no-untyped-def]
    _, cfg, fs, url = memory_project
    fs.pipe_file(f"{url}/secret.csv", b"x1\n1\n")
    for path in (f"{url}/landing/../secret.csv", f"{url}/secret.csv", f"{url}/landing/sub/x.csv"):
        with pytest.raises(IngestError, match="outside the landing zone"):
            admit(path, cfg, Ledger(cfg.ledger_url))
    assert fs.exists(f"{url}/secret.csv")


def test_memory_zone_recovers_an_interrupted_move(memory_project) -> None:  # type: ignore[no-untyped-def]
    project, cfg, fs, url = memory_project
    data = project.stream.batches[0].frame.head(30).to_csv(index=False).encode()
    src = _put(fs, url, "x.csv", data)
    zone = zone_of(cfg)
    ledger = Ledger(cfg.ledger_url)
    sha = hashlib.sha256(data).hexdigest()
    source = zone.locate(src)
    dest = zone.free_name(zone.quarantine, "x.csv", sha)
    ledger.intend(source, LedgerEntry("x.csv", sha, QUARANTINED, "x.csv: why", destination=dest))
    (done,) = recover(zone, ledger)  # the crash came before the move
    assert done.status == QUARANTINED and fs.exists(f"{url}/quarantine/x.csv")
    assert fs.cat_file(f"{url}/quarantine/x.csv.reason.txt") == b"x.csv: why\n"
    assert ledger.moves() == [] and recover(zone, ledger) == []
