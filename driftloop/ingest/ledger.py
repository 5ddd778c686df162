"""The batch ledger: a SQLite file in the work folder, written ahead of every move.

Why its own SQLite file and not MLflow's store: with a tracking server (``http://...``)
driftloop has no access to MLflow's database, and MLflow runs cannot be updated in one
transaction or looked up under a unique key, which the write-ahead protocol needs. SQLite in
WAL mode with ``synchronous=FULL`` commits atomically and survives ``kill -9`` at any point.

Three tables:

* ``batches``: the manifest, one row per batch file that reached its end place (processed or
  quarantine): hash, rows, time, status, reason, destination, flow run id, attempts, outcome.
* ``moves``: the write-ahead intents, one per batch being moved right now (the whole manifest
  row plus where it goes). Written before the move; turned into a ``batches`` row and deleted
  in one transaction after it. A row left here by a crash is finished by ``recover``.
* ``attempts``: batches accepted for processing and not yet finished, with the attempt count
  (counted before the work starts, so a crash counts too) and the last error.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT, batch TEXT NOT NULL, sha256 TEXT NOT NULL,
    status TEXT NOT NULL, reason TEXT NOT NULL DEFAULT '', rows INTEGER NOT NULL DEFAULT 0,
    destination TEXT NOT NULL DEFAULT '', recorded_at TEXT NOT NULL,
    result TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS batches_sha ON batches (sha256);
CREATE TABLE IF NOT EXISTS moves (
    source TEXT PRIMARY KEY, batch TEXT NOT NULL, sha256 TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL, rows INTEGER NOT NULL, destination TEXT NOT NULL,
    result TEXT NOT NULL, flow_run_id TEXT NOT NULL, attempts INTEGER NOT NULL,
    retryable INTEGER NOT NULL, created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS attempts (
    source TEXT PRIMARY KEY, batch TEXT NOT NULL, sha256 TEXT NOT NULL,
    attempts INTEGER NOT NULL, last_error TEXT NOT NULL, flow_run_id TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"""
_ADDED = {  # columns added to `batches` after its first release
    "flow_run_id": "TEXT NOT NULL DEFAULT ''",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "retryable": "INTEGER NOT NULL DEFAULT 0",
}
INTERRUPTED = "interrupted: the run ended before it recorded an outcome"


def _now() -> str:
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


def _entry(r: sqlite3.Row, stamp: str = "recorded_at") -> LedgerEntry:
    return LedgerEntry(
        batch=r["batch"],
        sha256=r["sha256"],
        status=r["status"],
        reason=r["reason"],
        rows=r["rows"],
        destination=r["destination"],
        recorded_at=r[stamp],
        result=json.loads(r["result"]),
        flow_run_id=r["flow_run_id"],
        attempts=r["attempts"],
        retryable=bool(r["retryable"]),
    )


class Ledger:
    """Records batches by content hash so that none is processed twice or lost."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(_SCHEMA)
            have = {r["name"] for r in con.execute("PRAGMA table_info(batches)")}
            for col, decl in _ADDED.items():
                if col not in have:
                    con.execute(f"ALTER TABLE batches ADD COLUMN {col} {decl}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        con.execute("PRAGMA synchronous=FULL")
        try:
            with con:
                yield con
        finally:
            con.close()

    @staticmethod
    def _values(e: LedgerEntry) -> list[Any]:
        return [e.batch, e.sha256, e.status, e.reason, e.rows, e.destination]

    def record(self, entry: LedgerEntry) -> LedgerEntry:
        """Store a manifest record directly, stamping the time it was recorded."""
        with self._connect() as con:
            return self._insert(con, entry)

    def _insert(self, con: sqlite3.Connection, entry: LedgerEntry) -> LedgerEntry:
        stamped = LedgerEntry(**{**entry.__dict__, "recorded_at": _now()})
        con.execute(
            "INSERT INTO batches (batch, sha256, status, reason, rows, destination, recorded_at,"
            " result, flow_run_id, attempts, retryable) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                *self._values(stamped),
                stamped.recorded_at,
                json.dumps(stamped.result, default=str),
                stamped.flow_run_id,
                stamped.attempts,
                int(stamped.retryable),
            ],
        )
        return stamped

    def intend(self, source: str, entry: LedgerEntry) -> None:
        """Write-ahead: record where a batch is about to be moved and its whole manifest record."""
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO moves (source, batch, sha256, status, reason, rows,"
                " destination, result, flow_run_id, attempts, retryable, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    source,
                    *self._values(entry),
                    json.dumps(entry.result, default=str),
                    entry.flow_run_id,
                    entry.attempts,
                    int(entry.retryable),
                    _now(),
                ],
            )

    def moves(self) -> list[tuple[str, LedgerEntry]]:
        """Intents not yet settled (left by a crash), oldest first."""
        with self._connect() as con:
            rows = con.execute("SELECT * FROM moves ORDER BY created_at").fetchall()
        return [(r["source"], _entry(r, "created_at")) for r in rows]

    def settle(self, source: str, status: str | None = None, reason: str = "") -> LedgerEntry:
        """After the move: the intent becomes a manifest record, in one transaction."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM moves WHERE source = ?", [source]).fetchone()
            if row is None:
                raise KeyError(source)
            entry = _entry(row, "created_at")
            if status:
                entry = LedgerEntry(**{**entry.__dict__, "status": status, "reason": reason})
            stamped = self._insert(con, entry)
            con.execute("DELETE FROM moves WHERE source = ?", [source])
            con.execute("DELETE FROM attempts WHERE source = ?", [source])
        return stamped

    def start_attempt(self, source: str, batch: str, sha256: str, flow_run_id: str = "") -> int:
        """Count one more processing attempt of a waiting batch (before the work starts)."""
        with self._connect() as con:
            row = con.execute("SELECT * FROM attempts WHERE source = ?", [source]).fetchone()
            n = row["attempts"] + 1 if row is not None and row["sha256"] == sha256 else 1
            con.execute(
                "INSERT OR REPLACE INTO attempts (source, batch, sha256, attempts, last_error,"
                " flow_run_id, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [source, batch, sha256, n, INTERRUPTED, flow_run_id, _now()],
            )
        return n

    def attempt(self, source: str, sha256: str | None = None) -> Attempt | None:
        """The unfinished attempt record of a waiting batch (of this content, if given)."""
        with self._connect() as con:
            r = con.execute("SELECT * FROM attempts WHERE source = ?", [source]).fetchone()
        if r is None or (sha256 is not None and r["sha256"] != sha256):
            return None
        return Attempt(r["source"], r["batch"], r["sha256"], r["attempts"], r["last_error"])

    def in_flight(self, sha256: str, other_than: str) -> Attempt | None:
        """An unfinished attempt of the same content under another file name."""
        with self._connect() as con:
            r = con.execute(
                "SELECT * FROM attempts WHERE sha256 = ? AND source != ? LIMIT 1",
                [sha256, other_than],
            ).fetchone()
        return None if r is None else Attempt(*[r[k] for k in Attempt.__dataclass_fields__])

    def fail_attempt(self, source: str, error: str) -> Attempt | None:
        """Note why the current attempt of a batch failed; return the attempt record."""
        with self._connect() as con:
            con.execute(
                "UPDATE attempts SET last_error = ?, updated_at = ? WHERE source = ?",
                [error, _now(), source],
            )
        return self.attempt(source)

    def find_done(self, sha256: str) -> LedgerEntry | None:
        """The first record that judged this content (processed or quarantined for itself)."""
        rows = self._select(
            "SELECT * FROM batches WHERE sha256 = ? AND status IN ('processed', 'quarantined')"
            " AND retryable = 0 ORDER BY id LIMIT 1",
            [sha256],
        )
        return rows[0] if rows else None

    def find(self, sha256: str, status: str | None = None) -> LedgerEntry | None:
        """Return the first entry with this content hash (and status, if given)."""
        query = "SELECT * FROM batches WHERE sha256 = ?"
        args: list[Any] = [sha256]
        if status:
            query += " AND status = ?"
            args.append(status)
        rows = self._select(query + " ORDER BY id LIMIT 1", args)
        return rows[0] if rows else None

    def recent(self, limit: int = 20, status: str | None = None) -> list[LedgerEntry]:
        """Return the last entries, newest first."""
        query = "SELECT * FROM batches"
        args: list[Any] = []
        if status:
            query += " WHERE status = ?"
            args.append(status)
        return self._select(query + " ORDER BY id DESC LIMIT ?", [*args, limit])

    def _select(self, query: str, args: list[Any]) -> list[LedgerEntry]:
        with self._connect() as con:
            rows = con.execute(query, args).fetchall()
        return [_entry(r) for r in rows]
