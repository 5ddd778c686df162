"""The ledger's tables and the records read from them.

* ``driftloop_batches``: the manifest, one row per batch file that reached its end place
  (processed or quarantine): hash, rows, time, status, reason, destination, flow run id,
  attempts, outcome. A quarantined batch put back by ``driftloop requeue`` gets one more
  row, status ``requeued`` (destination: its path in landing/); the earlier rows stay as
  its history.
* ``driftloop_moves``: the write-ahead intents, one per batch being moved right now (the
  whole manifest row plus where it goes). Written before the move; turned into a batches row
  and deleted in one transaction after it. A row left here by a crash is finished by
  ``recover``.
* ``driftloop_attempts``: batches accepted for processing and not yet finished, with the
  attempt count (counted before the work starts, so a crash counts too), the last error and
  the flow run of the current attempt.
* ``driftloop_imports``: old ``ledger.sqlite`` files already imported.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import RowMapping

INTERRUPTED = "interrupted: the run ended before it recorded an outcome"
REQUEUED = "requeued"  # a quarantined batch put back in landing/ (`driftloop requeue`)
PREFIX = "driftloop_"

META = sa.MetaData()
BATCHES = sa.Table(
    PREFIX + "batches",
    META,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, server_default=""),
    sa.Column("rows", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("destination", sa.Text, nullable=False, server_default=""),
    sa.Column("recorded_at", sa.String(40), nullable=False),
    sa.Column("result", sa.Text, nullable=False, server_default="{}"),
    sa.Column("flow_run_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("retryable", sa.Boolean, nullable=False, server_default=sa.false()),
    sqlite_autoincrement=True,
)
MOVES = sa.Table(
    PREFIX + "moves",
    META,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("batch", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("rows", sa.BigInteger, nullable=False),
    sa.Column("destination", sa.Text, nullable=False),
    sa.Column("result", sa.Text, nullable=False),
    sa.Column("flow_run_id", sa.String(64), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("retryable", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.String(40), nullable=False),
)
ATTEMPTS = sa.Table(
    PREFIX + "attempts",
    META,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("batch", sa.Text, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False, index=True),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    sa.Column("flow_run_id", sa.String(64), nullable=False),
    sa.Column("updated_at", sa.String(40), nullable=False),
)
IMPORTS = sa.Table(  # old ledger files already imported (see ledger_open.py)
    PREFIX + "imports",
    META,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("rows", sa.Integer, nullable=False),
    sa.Column("imported_at", sa.String(40), nullable=False),
)


def now() -> str:
    """The time now, UTC, ISO 8601 to the second (how the ledger stamps records)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded batch (a manifest record): where it went and what was done with it."""

    batch: str
    sha256: str
    status: str
    reason: str = ""
    rows: int = 0
    destination: str = ""
    recorded_at: str = ""
    result: dict[str, Any] = field(default_factory=dict)
    flow_run_id: str = ""
    attempts: int = 0
    retryable: bool = False


@dataclass(frozen=True)
class Attempt:
    """A batch accepted for processing and not finished yet."""

    source: str
    batch: str
    sha256: str
    attempts: int
    last_error: str
    flow_run_id: str = ""


def entry_of(r: RowMapping, stamp: str = "recorded_at") -> LedgerEntry:
    """The record a batches (or moves) row holds."""
    return LedgerEntry(
        batch=r["batch"],
        sha256=r["sha256"],
        status=r["status"],
        reason=r["reason"],
        rows=int(r["rows"]),
        destination=r["destination"],
        recorded_at=r[stamp],
        result=json.loads(r["result"]),
        flow_run_id=r["flow_run_id"],
        attempts=int(r["attempts"]),
        retryable=bool(r["retryable"]),
    )


def attempt_of(r: RowMapping) -> Attempt:
    """The attempt an attempts row holds."""
    return Attempt(
        r["source"], r["batch"], r["sha256"], int(r["attempts"]), r["last_error"], r["flow_run_id"]
    )


def row_of(entry: LedgerEntry) -> dict[str, Any]:
    """The columns a record is written as (moves and batches rows share them)."""
    return {
        "batch": entry.batch,
        "sha256": entry.sha256,
        "status": entry.status,
        "reason": entry.reason,
        "rows": entry.rows,
        "destination": entry.destination,
        "result": json.dumps(entry.result, default=str),
        "flow_run_id": entry.flow_run_id,
        "attempts": entry.attempts,
        "retryable": bool(entry.retryable),
    }
