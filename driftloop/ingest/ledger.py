"""The batch ledger: one SQLite row per batch file seen, keyed by content hash."""

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
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    batch TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    rows INTEGER NOT NULL DEFAULT 0,
    destination TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL,
    result TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS batches_sha ON batches (sha256);
"""


@dataclass(frozen=True)
class LedgerEntry:
    """One recorded batch: where it went and what was done with it."""

    batch: str
    sha256: str
    status: str
    reason: str = ""
    rows: int = 0
    destination: str = ""
    recorded_at: str = ""
    result: dict[str, Any] = field(default_factory=dict)


class Ledger:
    """Records batches by content hash so that none is processed twice."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=30)
        try:
            with con:
                yield con
        finally:
            con.close()

    def record(self, entry: LedgerEntry) -> LedgerEntry:
        """Store an entry, stamping the time it was recorded."""
        stamped = LedgerEntry(
            **{**entry.__dict__, "recorded_at": datetime.now(UTC).isoformat(timespec="seconds")}
        )
        with self._connect() as con:
            con.execute(
                "INSERT INTO batches (batch, sha256, status, reason, rows, destination,"
                " recorded_at, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stamped.batch,
                    stamped.sha256,
                    stamped.status,
                    stamped.reason,
                    stamped.rows,
                    stamped.destination,
                    stamped.recorded_at,
                    json.dumps(stamped.result, default=str),
                ),
            )
        return stamped

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
            con.row_factory = sqlite3.Row
            rows = con.execute(query, args).fetchall()
        return [
            LedgerEntry(
                batch=r["batch"],
                sha256=r["sha256"],
                status=r["status"],
                reason=r["reason"],
                rows=r["rows"],
                destination=r["destination"],
                recorded_at=r["recorded_at"],
                result=json.loads(r["result"]),
            )
            for r in rows
        ]
