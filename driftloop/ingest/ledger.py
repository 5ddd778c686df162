"""The batch ledger: tables in a SQL database (by default MLflow's), written ahead of every move.

``[ingest] ledger_url`` names the database (a SQLAlchemy URL); left empty it is the MLflow
tracking database itself (``sqlite:///<work>/mlflow.db``, or the ``postgresql://`` database
of ``tracking_uri``). Its own tables are prefixed ``driftloop_`` and created if missing; MLflow
checks only that its own tables exist, so they do not disturb it or its migrations.

Why tables and not MLflow runs: runs cannot be updated in one transaction or looked up under
a unique key, which the write-ahead protocol needs. Every method below is one transaction:
on SQLite it starts with ``BEGIN IMMEDIATE`` (writers are serialised, no lost update); on
PostgreSQL the read-modify-writes are single statements (upserts, ``DELETE ... RETURNING``),
so two processes settling the same move record it once.

The tables and the records read from them are in ``ledger_tables``.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from driftloop.core.errors import ConfigError
from driftloop.core.records import Status
from driftloop.core.redact import redact
from driftloop.ingest.ledger_tables import (
    ATTEMPTS,
    BATCHES,
    INTERRUPTED,
    META,
    MOVES,
    REQUEUED,
    Attempt,
    LedgerEntry,
    attempt_of,
    entry_of,
    now,
    row_of,
)

SUPPORTED = ("sqlite", "postgresql")

_ENGINES: dict[str, Engine] = {}
_LOCK = threading.Lock()


def _sqlite_begin_immediate(engine: Engine) -> None:
    """SQLite: take the write lock at BEGIN, so a read-then-write cannot lose an update."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_con: Any, _record: Any) -> None:
        dbapi_con.isolation_level = None  # we issue BEGIN ourselves
        dbapi_con.execute("PRAGMA synchronous=FULL")

    @sa.event.listens_for(engine, "begin")
    def _begin(con: Connection) -> None:
        con.exec_driver_sql("BEGIN IMMEDIATE")


def engine_for(url: str) -> Engine:
    """One engine per database URL and process (SQLite or PostgreSQL)."""
    with _LOCK:
        if url in _ENGINES:
            return _ENGINES[url]
        parsed = sa.engine.make_url(url)
        backend = parsed.get_backend_name()
        if backend not in SUPPORTED:
            raise ConfigError(
                f"[ingest] ledger_url {parsed.render_as_string(hide_password=True)!r}: "
                f"{backend} is not supported; use a sqlite:/// or postgresql:// URL."
            )
        if backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = sa.create_engine(parsed, connect_args={"timeout": 30})
            _sqlite_begin_immediate(engine)
        else:
            engine = sa.create_engine(parsed, pool_pre_ping=True)
        _ENGINES[url] = engine
        return engine


class Ledger:
    """Records batches by content hash so that none is processed twice or lost."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            META.create_all(self._engine, checkfirst=True)
        except sa.exc.OperationalError as err:
            raise ConfigError(
                f"cannot open the ledger database {self.safe_url}: {err.orig}; check "
                "[ingest] ledger_url (or [tracking] tracking_uri, whose database it shares) "
                "and that the database server is running."
            ) from None

    @property
    def _engine(self) -> Engine:
        return engine_for(self.url)

    @property
    def safe_url(self) -> str:
        """The database URL without its user info, for messages."""
        return redact(self.url)

    def _insert_sql(self, table: sa.Table) -> Any:
        if self._engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(table)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)

    def record(self, entry: LedgerEntry) -> LedgerEntry:
        """Store a manifest record directly, stamping the time it was recorded."""
        with self._engine.begin() as con:
            return self._insert(con, entry)

    @staticmethod
    def _insert(con: Connection, entry: LedgerEntry) -> LedgerEntry:
        stamped = LedgerEntry(**{**entry.__dict__, "recorded_at": now()})
        con.execute(BATCHES.insert().values(**row_of(stamped), recorded_at=stamped.recorded_at))
        return stamped

    def intend(self, source: str, entry: LedgerEntry) -> None:
        """Write-ahead: record where a batch is about to be moved and its whole manifest record."""
        values = {**row_of(entry), "source": source, "created_at": now()}
        stmt = self._insert_sql(MOVES).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source"], set_={k: stmt.excluded[k] for k in values if k != "source"}
        )
        with self._engine.begin() as con:
            con.execute(stmt)

    def moves(self) -> list[tuple[str, LedgerEntry]]:
        """Intents not yet settled (left by a crash), oldest first."""
        query = sa.select(MOVES).order_by(MOVES.c.created_at, MOVES.c.source)
        with self._engine.begin() as con:
            rows = con.execute(query).mappings().all()
        return [(r["source"], entry_of(r, "created_at")) for r in rows]

    def settle(self, source: str, status: str | None = None, reason: str = "") -> LedgerEntry:
        """After the move: the intent becomes a manifest record, in one transaction."""
        claim = MOVES.delete().where(MOVES.c.source == source).returning(*MOVES.c)
        with self._engine.begin() as con:
            row = con.execute(claim).mappings().first()  # only one settler can claim it
            if row is None:
                raise KeyError(source)
            entry = entry_of(row, "created_at")
            if status:
                entry = LedgerEntry(**{**entry.__dict__, "status": status, "reason": reason})
            stamped = self._insert(con, entry)
            con.execute(ATTEMPTS.delete().where(ATTEMPTS.c.source == source))
        return stamped

    def start_attempt(self, source: str, batch: str, sha256: str, flow_run_id: str = "") -> int:
        """Count one more processing attempt of a waiting batch (before the work starts)."""
        stmt = self._insert_sql(ATTEMPTS).values(
            source=source,
            batch=batch,
            sha256=sha256,
            attempts=1,
            last_error=INTERRUPTED,
            flow_run_id=flow_run_id,
            updated_at=now(),
        )
        new = stmt.excluded
        same = sa.case((ATTEMPTS.c.sha256 == new.sha256, ATTEMPTS.c.attempts + 1), else_=1)
        stmt = stmt.on_conflict_do_update(
            index_elements=["source"],
            set_={
                "attempts": same,
                "batch": new.batch,
                "sha256": new.sha256,
                "last_error": new.last_error,
                "flow_run_id": new.flow_run_id,
                "updated_at": new.updated_at,
            },
        ).returning(ATTEMPTS.c.attempts)
        with self._engine.begin() as con:
            return int(con.execute(stmt).scalar_one())

    def attempt(self, source: str, sha256: str | None = None) -> Attempt | None:
        """The unfinished attempt record of a waiting batch (of this content, if given)."""
        query = sa.select(ATTEMPTS).where(ATTEMPTS.c.source == source)
        with self._engine.begin() as con:
            r = con.execute(query).mappings().first()
        if r is None or (sha256 is not None and r["sha256"] != sha256):
            return None
        return attempt_of(r)

    def in_flight(self, sha256: str, other_than: str) -> Attempt | None:
        """An unfinished attempt of the same content under another file name."""
        query = (
            sa.select(ATTEMPTS)
            .where(ATTEMPTS.c.sha256 == sha256, ATTEMPTS.c.source != other_than)
            .order_by(ATTEMPTS.c.source)
            .limit(1)
        )
        with self._engine.begin() as con:
            r = con.execute(query).mappings().first()
        return None if r is None else attempt_of(r)

    def restore_attempt(self, source: str, before: Attempt | None) -> None:
        """Put a batch's attempt record back as it was (none: remove it); undoes start_attempt."""
        with self._engine.begin() as con:
            con.execute(ATTEMPTS.delete().where(ATTEMPTS.c.source == source))
            if before is not None:
                con.execute(ATTEMPTS.insert().values(**before.__dict__, updated_at=now()))

    def fail_attempt(self, source: str, error: str) -> Attempt | None:
        """Note why the current attempt of a batch failed; return the attempt record."""
        stmt = (
            ATTEMPTS.update()
            .where(ATTEMPTS.c.source == source)
            .values(last_error=error, updated_at=now())
            .returning(*ATTEMPTS.c)
        )
        with self._engine.begin() as con:
            r = con.execute(stmt).mappings().first()
        return None if r is None else attempt_of(r)

    def find_done(self, sha256: str) -> LedgerEntry | None:
        """The first record that judged this content (processed or quarantined for itself).

        A ``requeued`` record puts the content back for another try: only judgements after
        the last requeue count.
        """
        last_requeue = (
            sa.select(sa.func.max(BATCHES.c.id))
            .where(BATCHES.c.sha256 == sha256, BATCHES.c.status == REQUEUED)
            .scalar_subquery()
        )
        rows = self._select(
            sa.select(BATCHES)
            .where(
                BATCHES.c.sha256 == sha256,
                BATCHES.c.status.in_((Status.PROCESSED.value, Status.QUARANTINED.value)),
                BATCHES.c.retryable == sa.false(),
                BATCHES.c.id > sa.func.coalesce(last_requeue, 0),
            )
            .order_by(BATCHES.c.id)
            .limit(1)
        )
        return rows[0] if rows else None

    def last_at(self, destination: str) -> LedgerEntry | None:
        """The newest record of a batch moved to this path (what put the file there)."""
        rows = self._select(
            sa.select(BATCHES)
            .where(BATCHES.c.destination == destination)
            .order_by(BATCHES.c.id.desc())
            .limit(1)
        )
        return rows[0] if rows else None

    def find(self, sha256: str, status: str | None = None) -> LedgerEntry | None:
        """Return the first entry with this content hash (and status, if given)."""
        query = sa.select(BATCHES).where(BATCHES.c.sha256 == sha256)
        if status:
            query = query.where(BATCHES.c.status == status)
        rows = self._select(query.order_by(BATCHES.c.id).limit(1))
        return rows[0] if rows else None

    def recent(self, limit: int = 20, status: str | None = None) -> list[LedgerEntry]:
        """Return the last entries, newest first."""
        query = sa.select(BATCHES)
        if status:
            query = query.where(BATCHES.c.status == status)
        return self._select(query.order_by(BATCHES.c.id.desc()).limit(limit))

    def count(self, status: str) -> int:
        """How many batches were recorded with this status."""
        query = sa.select(sa.func.count()).select_from(BATCHES).where(BATCHES.c.status == status)
        with self._engine.begin() as con:
            return int(con.execute(query).scalar_one())

    def _select(self, query: sa.Select[Any]) -> list[LedgerEntry]:
        with self._engine.begin() as con:
            rows = con.execute(query).mappings().all()
        return [entry_of(r) for r in rows]
