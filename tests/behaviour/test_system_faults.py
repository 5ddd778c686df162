"""A fault of our own stores is never the batch's: nothing counted, every batch left waiting.

One case per system fault: the champion's artifact files removed, the tracking database
removed, the tracking database corrupt, the ledger database unreachable, the Prefect API down,
the disk under the ledger full (a real 2 MiB tmpfs, filled). Each run under the fault exits 2
with one line naming the fault and the fix; no attempt is counted and both batches stay in the
landing folder; after the repair the next run processes them. The project is bootstrapped once
for the module; each case drops its own two batches.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, zone_of
from tests.helpers import TINY_SETTINGS, Project, cli, make_project

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def booted(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("faults"), TINY_SETTINGS)
    res = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err
    return project


@pytest.fixture
def no_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFTLOOP_PREFECT__IO_RETRIES", "0")


def _drop_two(project: Project, case: int) -> list[Path]:
    frame = project.stream.batches[0].frame.drop(columns="label")
    return [
        project.drop(frame.iloc[40 * (2 * case + k) :][:40], f"c{case}-{k}.csv") for k in (0, 1)
    ]


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def _attempts(project: Project, url: str = "") -> list[int]:
    cfg = load_config(project.config)
    ledger, zone = Ledger(url or cfg.ledger_url), zone_of(cfg)
    found = [ledger.attempt(zone.locate(p)) for p in sorted(cfg.landing_dir.iterdir())]
    return [a.attempts for a in found if a is not None]


def _under_fault(project: Project, batches: list[Path], says: str, url: str = "") -> None:
    """Two runs under the fault: each exits 2 with one line; nothing counted, nothing moved."""
    for _ in (1, 2):
        res = cli("run", "--config", str(project.config), "--json")
        assert res.code == 2, res.err
        (line,) = [x for x in res.err.splitlines() if x.startswith("driftloop run: error:")]
        assert says in line, line
        assert "Traceback" not in res.err
        assert all(p.is_file() for p in batches)
    assert _attempts(project, url) == []


def _repaired(project: Project, batches: list[Path]) -> None:
    res = cli("run", "--config", str(project.config), "--json")
    assert res.code == 0, res.err
    assert sorted((r["batch"], r["status"]) for r in res.json_lines()) == [
        (p.name, "processed") for p in batches
    ]
    assert not any(p.exists() for p in batches)


def test_champion_files_removed_leave_the_batches_waiting_uncounted(
    booted: Project, no_retries: None
) -> None:
    batches = _drop_two(booted, 0)
    store, aside = booted.work / "mlartifacts", booted.work / "mlartifacts.aside"
    cache, cache_aside = booted.work / "cache", booted.work / "cache.aside"
    store.rename(aside)
    if cache.exists():
        cache.rename(cache_aside)
    try:
        _under_fault(
            booted,
            batches,
            "version 1 of model 'test-model' has no files in the artifact store of sqlite:///",
        )
        res = cli("run", "--config", str(booted.config))
        assert "left waiting: ['c0-0.csv', 'c0-1.csv']. Fix the fault and run again." in res.err
    finally:
        aside.rename(store)
        if cache_aside.exists():
            shutil.rmtree(cache, ignore_errors=True)
            cache_aside.rename(cache)
    _repaired(booted, batches)


def test_a_removed_tracking_database_is_a_fault_of_the_store_not_a_fresh_start(
    booted: Project,
) -> None:
    batches = _drop_two(booted, 1)
    db = booted.work / "mlflow.db"
    db.rename(db.with_suffix(".aside"))
    try:
        _under_fault(booted, batches, f"the MLflow tracking database {db} is missing")
        assert not db.exists()  # nothing recreated it empty
    finally:
        db.with_suffix(".aside").rename(db)
    _repaired(booted, batches)


def test_a_corrupt_tracking_database_is_named_and_nothing_counted(booted: Project) -> None:
    batches = _drop_two(booted, 2)
    db = booted.work / "mlflow.db"
    db.rename(db.with_suffix(".aside"))
    db.write_bytes(b"not a database at all\n" * 200)
    try:
        _under_fault(booted, batches, f"the MLflow tracking database {db} cannot be read")
    finally:
        db.unlink()
        db.with_suffix(".aside").rename(db)
    _repaired(booted, batches)


def test_an_unreachable_ledger_database_stops_the_run(
    booted: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches = _drop_two(booted, 3)
    dead = f"postgresql://postgres:s3cretpw@127.0.0.1:{_dead_port()}/postgres"
    monkeypatch.setenv("DRIFTLOOP_INGEST__LEDGER_URL", dead)
    for _ in (1, 2):
        res = cli("run", "--config", str(booted.config))
        assert res.code == 2, res.err
        assert "driftloop run: error: cannot open the ledger database postgresql://***@" in res.err
        assert "s3cretpw" not in res.err and "Traceback" not in res.err
        assert all(p.is_file() for p in batches)
    monkeypatch.delenv("DRIFTLOOP_INGEST__LEDGER_URL")
    assert _attempts(booted) == []
    _repaired(booted, batches)


def test_a_prefect_api_that_is_down_stops_the_run(booted: Project) -> None:
    batches = _drop_two(booted, 4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLOOP_")}
    env["PREFECT_API_URL"] = f"http://127.0.0.1:{_dead_port()}/api"
    for _ in (1, 2):
        res = subprocess.run(
            [str(BIN / "driftloop"), "run", "--config", str(booted.config)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert res.returncode == 2, res.stderr
        (line,) = [x for x in res.stderr.splitlines() if x.startswith("driftloop run: error:")]
        assert "the Prefect API does not answer" in line and "prefect server start" in line
        assert "Traceback" not in res.stderr
        assert all(p.is_file() for p in batches)
    assert _attempts(booted) == []
    _repaired(booted, batches)


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs (root may mount one), unmounted at teardown."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], check=True)
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:  # ENOSPC: the disk is full
        pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_under_the_ledger_counts_nothing(
    booted: Project, tiny_disk: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tiny_disk / 'ledger.db'}"
    monkeypatch.setenv("DRIFTLOOP_INGEST__LEDGER_URL", url)
    assert cli("run", "--config", str(booted.config)).code == 0  # the ledger's tables, empty
    batches = _drop_two(booted, 5)
    filler = _fill(tiny_disk)
    try:
        _under_fault(booted, batches, "the disk under driftloop's stores is full", url)
    finally:
        filler.unlink()
    _repaired(booted, batches)
