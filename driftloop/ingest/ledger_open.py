"""Open the configured ledger: let MLflow create its schema first, import an old ledger file once.

Before this release the ledger was a SQLite file, ``<work_dir>/ledger.sqlite``. When that file
exists, its records (manifest, pending moves, attempt counts) are copied into the ledger
database in one transaction that also records the import (table ``driftloop_imports``), then
the file is renamed ``ledger.sqlite.imported`` (kept, never deleted). A crash between the two
leaves the file in place but marked imported: the next run only renames it. Nothing is
imported twice.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from driftloop.core.config import Config
from driftloop.ingest.ledger import Ledger, engine_for
from driftloop.ingest.ledger_tables import ATTEMPTS, BATCHES, IMPORTS, MOVES, now

log = logging.getLogger(__name__)
OLD_LEDGER = "ledger.sqlite"
IMPORTED_SUFFIX = ".imported"


def _mlflow_schema_first(cfg: Config) -> None:
    """On MLflow's own database, let MLflow create its tables before the ledger adds its own.

    `mlflow db upgrade` refuses a database that holds tables but not MLflow's; creating
    MLflow's schema first keeps that command working on a shared database.
    """
    if cfg.ledger_url != cfg.mlflow_uri:
        return
    if "alembic_version" in sa.inspect(engine_for(cfg.ledger_url)).get_table_names():
        return
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=cfg.mlflow_uri).search_experiments(max_results=1)


def _old_rows(path: Path, table: str) -> list[dict[str, Any]]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    try:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if table not in names:
            return []
        order = " ORDER BY id" if table == "batches" else ""
        return [dict(r) for r in con.execute(f"SELECT * FROM {table}{order}")]
    finally:
        con.close()


def _fill(row: dict[str, Any], table: sa.Table) -> dict[str, Any]:
    """Keep the columns the new table has; old files may lack later columns (defaults apply)."""
    out = {k: v for k, v in row.items() if k in table.c and k != "id"}
    if "retryable" in out:
        out["retryable"] = bool(out["retryable"])
    out.setdefault("flow_run_id", "")
    if table is not ATTEMPTS:
        out.setdefault("attempts", 0)
        out.setdefault("retryable", False)
        out.setdefault("result", json.dumps({}))
    return out


def import_old_ledger(path: Path, ledger: Ledger) -> int:
    """Copy an old SQLite ledger file into `ledger` once; return the rows copied (0 if done)."""
    key = str(path.resolve())
    tables = {"batches": BATCHES, "moves": MOVES, "attempts": ATTEMPTS}
    rows = {name: [_fill(r, t) for r in _old_rows(path, name)] for name, t in tables.items()}
    total = sum(len(v) for v in rows.values())
    with engine_for(ledger.url).begin() as con:
        if con.execute(sa.select(IMPORTS.c.path).where(IMPORTS.c.path == key)).first():
            return 0
        for name, table in tables.items():
            fresh = rows[name]
            if name != "batches":  # keyed by source: a newer record of the same file wins
                have = set(con.execute(sa.select(table.c.source)).scalars())
                fresh = [r for r in fresh if r["source"] not in have]
            if fresh:
                con.execute(table.insert(), fresh)
        con.execute(IMPORTS.insert().values(path=key, rows=total, imported_at=now()))
    return total


def open_ledger(cfg: Config) -> Ledger:
    """The configured ledger, ready: tables created, an old ledger.sqlite imported once."""
    _mlflow_schema_first(cfg)
    ledger = Ledger(cfg.ledger_url)
    old = cfg.work_dir / OLD_LEDGER
    if old.is_file():
        n = import_old_ledger(old, ledger)
        old.rename(old.with_name(OLD_LEDGER + IMPORTED_SUFFIX))
        log.warning(
            "imported %d record(s) of the old ledger file %s into %s; the file is kept as %s",
            n,
            old,
            ledger.safe_url,
            old.name + IMPORTED_SUFFIX,
        )
    return ledger
