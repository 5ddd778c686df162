"""The ledger on SQLite: the protocol, concurrent writers, restarts, MLflow sharing the database,
and the one-time import of an old ledger.sqlite file. tests/integration/test_ledger_postgres.py
runs the same contract on PostgreSQL."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, LedgerEntry, open_ledger
from driftloop.ingest.ledger_open import IMPORTED_SUFFIX, OLD_LEDGER
from tests.helpers import Project
from tests.ledger_contract import check_concurrent, check_protocol, check_restart

# The file format of the ledger before it moved into the database (its first release: no
# flow_run_id / attempts / retryable columns in `batches`).
OLD_SCHEMA = """
CREATE TABLE batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, batch TEXT NOT NULL, sha256 TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', rows INTEGER NOT NULL DEFAULT 0,
    destination TEXT NOT NULL DEFAULT '', recorded_at TEXT NOT NULL,
    result TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE moves (
    source TEXT PRIMARY KEY, batch TEXT NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL, rows INTEGER NOT NULL, destination TEXT NOT NULL,
    result TEXT NOT NULL, flow_run_id TEXT NOT NULL, attempts INTEGER NOT NULL,
    retryable INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE attempts (
    source TEXT PRIMARY KEY, batch TEXT NOT NULL, sha256 TEXT NOT NULL,
    attempts INTEGER NOT NULL, last_error TEXT NOT NULL, flow_run_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO batches (batch, sha256, status, reason, rows, destination, recorded_at, result)
VALUES ('b1.csv', 'a1', 'processed', '', 50, '/w/processed/b1.csv', '2026-01-01T00:00:00+00:00',
        '{"action": "none"}'),
       ('b2.csv', 'a2', 'quarantined', 'b2.csv: bad', 0, '/w/quarantine/b2.csv',
        '2026-01-02T00:00:00+00:00', '{}');
INSERT INTO moves VALUES ('/w/landing/b3.csv', 'b3.csv', 'a3', 'quarantined', 'b3.csv: why', 0,
    '/w/quarantine/b3.csv', '{}', 'fr-3', 1, 0, '2026-01-03T00:00:00+00:00');
INSERT INTO attempts VALUES ('/w/landing/b4.csv', 'b4.csv', 'a4', 2, 'OSError: x', 'fr-4',
    '2026-01-04T00:00:00+00:00');
"""


def test_ledger_contract_on_sqlite(tmp_path: Path) -> None:
    check_protocol(f"sqlite:///{tmp_path / 'a.db'}")
    check_concurrent(f"sqlite:///{tmp_path / 'b.db'}")


def test_ledger_survives_a_restart_on_sqlite(tmp_path: Path) -> None:
    check_restart(f"sqlite:///{tmp_path / 'ledger.db'}")


def _mlflow_upgrade(url: str) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "mlflow"), "db", "upgrade", url],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def test_mlflow_works_on_the_sqlite_database_holding_the_ledger(project: Project) -> None:
    from mlflow.tracking import MlflowClient

    cfg = load_config(project.config)
    ledger = open_ledger(cfg)  # a fresh work folder: MLflow's schema is created first
    assert cfg.ledger_url == cfg.mlflow_uri
    ledger.record(LedgerEntry("x.csv", "9" * 64, "processed", rows=1))
    tables = set(sa.inspect(sa.create_engine(cfg.mlflow_uri)).get_table_names())
    assert {"driftloop_batches", "driftloop_moves", "driftloop_attempts"} <= tables
    assert {"experiments", "runs", "registered_models", "alembic_version"} <= tables
    _mlflow_upgrade(cfg.mlflow_uri)  # MLflow's migrations accept the extra tables
    client = MlflowClient(tracking_uri=cfg.mlflow_uri)
    exp = client.create_experiment("shared", artifact_location=(project.work / "art").as_uri())
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "m", 0.5)
    client.create_registered_model("shared-model")
    assert client.get_run(run.info.run_id).data.metrics == {"m": 0.5}
    assert [m.name for m in client.search_registered_models()] == ["shared-model"]
    assert [e.batch for e in open_ledger(cfg).recent()] == ["x.csv"]


def test_ledger_tables_first_then_mlflow_initialises_around_them(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    url = f"sqlite:///{tmp_path / 'mlflow.db'}"
    Ledger(url).record(LedgerEntry("y.csv", "8" * 64, "processed"))
    client = MlflowClient(tracking_uri=url)
    assert client.search_experiments()[0].name == "Default"
    assert [e.batch for e in Ledger(url).recent()] == ["y.csv"]


def _old_ledger(project: Project) -> Path:
    path = project.work / OLD_LEDGER
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.executescript(OLD_SCHEMA)
    con.commit()
    con.close()
    return path


def test_an_old_ledger_file_is_imported_once_and_kept(project: Project) -> None:
    text = project.config.read_text() + '\n[ingest]\nledger_url = "sqlite:///ledger-db.sqlite"\n'
    project.config.write_text(text)
    cfg = load_config(project.config)
    old = _old_ledger(project)
    ledger = open_ledger(cfg)
    kept = old.with_name(OLD_LEDGER + IMPORTED_SUFFIX)
    assert not old.exists() and kept.is_file()
    recent = ledger.recent()
    assert [(e.batch, e.status, e.rows) for e in recent] == [
        ("b2.csv", "quarantined", 0),
        ("b1.csv", "processed", 50),
    ]
    assert recent[1].result == {"action": "none"} and recent[0].attempts == 0
    assert ledger.find_done("a1") is not None
    ((source, move),) = ledger.moves()
    assert source == "/w/landing/b3.csv" and move.destination == "/w/quarantine/b3.csv"
    attempt = ledger.attempt("/w/landing/b4.csv")
    assert attempt is not None and attempt.attempts == 2
    # A crash after the import committed but before the rename: the file is back in place.
    kept.rename(old)
    again = open_ledger(cfg)
    assert not old.exists() and kept.is_file()
    assert len(again.recent(100)) == 2 and len(again.moves()) == 1  # nothing imported twice


def test_restore_attempt_puts_the_count_back_as_it_was(tmp_path: Path) -> None:
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    assert ledger.start_attempt("/z/landing/b.csv", "b.csv", "a" * 64) == 1
    ledger.restore_attempt("/z/landing/b.csv", None)  # a first attempt: no record before it
    assert ledger.attempt("/z/landing/b.csv") is None
    ledger.start_attempt("/z/landing/b.csv", "b.csv", "a" * 64)
    ledger.fail_attempt("/z/landing/b.csv", "SchemaError: x1 missing")
    before = ledger.attempt("/z/landing/b.csv")
    assert ledger.start_attempt("/z/landing/b.csv", "b.csv", "a" * 64) == 2
    ledger.restore_attempt("/z/landing/b.csv", before)
    assert ledger.attempt("/z/landing/b.csv") == before
    assert before is not None and (before.attempts, before.last_error) == (
        1,
        "SchemaError: x1 missing",
    )
