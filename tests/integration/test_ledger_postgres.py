"""The batch ledger on the local PostgreSQL: the same contract as on SQLite (protocol,
concurrent writers, restart), and ingest end to end on a database that MLflow shares."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from psycopg import sql

from driftloop.core.config import load_config
from driftloop.ingest import LedgerEntry, admit, complete, open_ledger, recover, zone_of
from driftloop.ingest.admit import ACCEPTED, DUPLICATE, PROCESSED, QUARANTINED
from driftloop.ingest.ledger import engine_for
from tests.helpers import Project
from tests.integration.servers import admin_connect, pg_dsn
from tests.ledger_contract import check_concurrent, check_protocol, check_restart

DB_PREFIX = "dling_"  # driftloop ledger, ingest: databases these tests create and drop


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped (connections and all) afterwards."""
    name = f"{DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin_connect() as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = pg_dsn(name)
    try:
        yield url
    finally:
        engine_for(url).dispose()
        with admin_connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.mark.integration
def test_ledger_contract_on_postgres(pg_url: str) -> None:
    check_protocol(pg_url)
    check_concurrent(pg_url)
    check_restart(pg_url)
    tables = set(sa.inspect(engine_for(pg_url)).get_table_names())
    assert {"driftloop_batches", "driftloop_moves", "driftloop_attempts"} <= tables


@pytest.mark.integration
def test_ingest_on_a_postgres_mlflow_database(project: Project, pg_url: str) -> None:
    from mlflow.tracking import MlflowClient

    text = project.config.read_text() + f'\n[tracking]\ntracking_uri = "{pg_url}"\n'
    project.config.write_text(text)
    cfg = load_config(project.config)
    assert cfg.ledger_url == pg_url  # shared with MLflow by default
    ledger = open_ledger(cfg)  # MLflow's schema first, then the ledger's tables
    tables = set(sa.inspect(engine_for(pg_url)).get_table_names())
    assert {"driftloop_batches", "alembic_version", "experiments", "runs"} <= tables

    frame = project.stream.batches[0].frame
    good = project.drop(frame, "good.csv")
    project.drop(frame, "same.csv")
    adm = admit(good, cfg, ledger, flow_run_id="fr-1")
    assert adm.status == ACCEPTED and adm.attempts == 1
    complete(adm, cfg, ledger, {"action": "none"})
    dup = admit(project.work / "landing" / "same.csv", cfg, open_ledger(cfg))
    assert dup.status == DUPLICATE
    # A crash after the intent of a quarantine move: the next run's recover finishes it.
    bad = project.drop(frame.head(3), "small.csv")
    sha = hashlib.sha256(bad.read_bytes()).hexdigest()
    dest = str(cfg.quarantine_dir / "small.csv")
    ledger.intend(str(bad), LedgerEntry("small.csv", sha, QUARANTINED, "small.csv: few", 0, dest))
    (done,) = recover(zone_of(cfg), open_ledger(cfg))
    assert done.status == QUARANTINED and Path(dest).is_file() and not bad.exists()

    statuses = [(e.batch, e.status) for e in open_ledger(cfg).recent()]
    assert statuses == [
        ("small.csv", QUARANTINED),
        ("same.csv", DUPLICATE),
        ("good.csv", PROCESSED),
    ]
    assert sorted(p.name for p in cfg.processed_dir.iterdir()) == ["good.csv"]

    client = MlflowClient(tracking_uri=pg_url)  # MLflow still works beside the ledger
    exp = client.create_experiment("beside-ledger", artifact_location=(project.work / "a").as_uri())
    run = client.create_run(exp)
    client.log_metric(run.info.run_id, "rows", float(len(frame)))
    assert client.get_run(run.info.run_id).data.metrics == {"rows": float(len(frame))}
