"""The ledger's late-label tables, read and written one transaction per method (see ledger.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from driftloop.ingest.labels_tables import (
    LABEL_BATCHES,
    LABEL_FILES,
    LABEL_MOVES,
    LABEL_RECORDS,
    LABELS,
)
from driftloop.ingest.ledger import engine_for
from driftloop.ingest.ledger_tables import META, now

TABLES = [LABEL_FILES, LABEL_MOVES, LABELS, LABEL_BATCHES, LABEL_RECORDS]
ID_CHUNK = 500  # ids per IN (...) query
REFUSED_ROWS = -1
"""`label_rows` of a kept batch whose labels hold classes its champion did not know: its join
is tried again at every run, so a champion that knows them tests it."""


@dataclass(frozen=True)
class LabelFileEntry:
    """One label file's manifest record: where it went and why."""

    file: str
    sha256: str
    status: str
    reason: str = ""
    rows: int = 0
    destination: str = ""
    recorded_at: str = ""


@dataclass(frozen=True)
class KeptBatch:
    """A processed unlabelled batch whose rows wait for their labels."""

    sha256: str
    batch: str
    rows: int
    kept: int
    path: str
    joined: int
    challenged: bool
    label_rows: int = 0  # label rows naming its ids at the last join (a change: a new record)


def _entry(r: Any, stamp: str) -> LabelFileEntry:
    return LabelFileEntry(
        r["file"], r["sha256"], r["status"], r["reason"], int(r["rows"]), r["destination"], r[stamp]
    )


def _columns(entry: LabelFileEntry) -> dict[str, Any]:
    return {
        "file": entry.file,
        "sha256": entry.sha256,
        "status": entry.status,
        "reason": entry.reason,
        "rows": entry.rows,
        "destination": entry.destination,
    }


class LabelStore:
    """Label files, label rows and the batches waiting for them, in the ledger's database."""

    def __init__(self, url: str) -> None:
        self.url = url
        META.create_all(engine_for(url), tables=TABLES, checkfirst=True)

    def intend(
        self,
        source: str,
        entry: LabelFileEntry,
        model: str = "",
        labels: pd.DataFrame | None = None,
    ) -> None:
        """Write-ahead a label file's move; its label rows (`row_id`, `label`) go in with it."""
        with engine_for(self.url).begin() as con:
            con.execute(LABEL_MOVES.delete().where(LABEL_MOVES.c.source == source))
            con.execute(
                LABEL_MOVES.insert().values(**_columns(entry), source=source, created_at=now())
            )
            if labels is not None and len(labels):
                rows = [
                    {"model": model, "row_id": i, "label": v, "file_sha256": entry.sha256}
                    for i, v in zip(labels["row_id"], labels["label"], strict=True)
                ]
                con.execute(LABELS.insert(), rows)

    def moves(self) -> list[tuple[str, LabelFileEntry]]:
        """Label-file moves not yet settled (left by a crash), oldest first."""
        query = sa.select(LABEL_MOVES).order_by(LABEL_MOVES.c.created_at, LABEL_MOVES.c.source)
        with engine_for(self.url).begin() as con:
            rows = con.execute(query).mappings().all()
        return [(r["source"], _entry(r, "created_at")) for r in rows]

    def settle(self, source: str, status: str = "", reason: str = "") -> LabelFileEntry:
        """After the move: the intent becomes the file's manifest record, in one transaction.

        A status given here overrides the intent's (`missing`: the rows it stored are dropped).
        """
        claim = LABEL_MOVES.delete().where(LABEL_MOVES.c.source == source).returning(*LABEL_MOVES.c)
        with engine_for(self.url).begin() as con:
            row = con.execute(claim).mappings().first()
            if row is None:
                raise KeyError(source)
            entry = _entry(row, "created_at")
            if status:
                if entry.status == "processed":  # its rows went in with the intent: out again
                    con.execute(LABELS.delete().where(LABELS.c.file_sha256 == entry.sha256))
                entry = replace(entry, status=status, reason=reason)
            entry = replace(entry, recorded_at=now())
            con.execute(
                LABEL_FILES.insert().values(**_columns(entry), recorded_at=entry.recorded_at)
            )
        return entry

    def find_done(self, sha256: str) -> LabelFileEntry | None:
        """The first label file of this content that was processed (its labels are stored)."""
        query = (
            sa.select(LABEL_FILES)
            .where(LABEL_FILES.c.sha256 == sha256, LABEL_FILES.c.status == "processed")
            .order_by(LABEL_FILES.c.id)
            .limit(1)
        )
        with engine_for(self.url).begin() as con:
            r = con.execute(query).mappings().first()
        return None if r is None else _entry(r, "recorded_at")

    def files(self) -> list[LabelFileEntry]:
        """Every label file's manifest record, oldest first."""
        with engine_for(self.url).begin() as con:
            rows = con.execute(sa.select(LABEL_FILES).order_by(LABEL_FILES.c.id)).mappings().all()
        return [_entry(r, "recorded_at") for r in rows]

    def labels_for(self, model: str, ids: Sequence[str]) -> pd.DataFrame:
        """The stored label rows of these ids: `seq` (arrival order), `row_id`, `label`, file."""
        found: list[dict[str, Any]] = []
        with engine_for(self.url).begin() as con:
            for i in range(0, len(ids), ID_CHUNK):
                part = list(ids[i : i + ID_CHUNK])
                query = sa.select(LABELS).where(LABELS.c.model == model, LABELS.c.row_id.in_(part))
                found.extend(dict(r) for r in con.execute(query).mappings().all())
        columns = ["seq", "model", "row_id", "label", "file_sha256"]
        return pd.DataFrame(found, columns=columns).sort_values("seq", ignore_index=True)

    def file_names(self, shas: Sequence[str]) -> list[str]:
        """The names of the processed label files with these hashes, in arrival order."""
        query = (
            sa.select(LABEL_FILES.c.file)
            .where(LABEL_FILES.c.sha256.in_(list(shas)), LABEL_FILES.c.status == "processed")
            .order_by(LABEL_FILES.c.id)
        )
        with engine_for(self.url).begin() as con:
            return [str(r[0]) for r in con.execute(query).all()]

    def keep_batch(self, model: str, batch: KeptBatch) -> None:
        """Note a processed unlabelled batch whose kept rows wait for labels (again: replaced)."""
        kept_at = datetime.now(UTC).isoformat(timespec="microseconds")  # orders the batches
        values = {**batch.__dict__, "model": model, "kept_at": kept_at}
        with engine_for(self.url).begin() as con:
            con.execute(LABEL_BATCHES.delete().where(LABEL_BATCHES.c.sha256 == batch.sha256))
            con.execute(LABEL_BATCHES.insert().values(**values))

    def kept_batches(self, model: str) -> list[KeptBatch]:
        """The model's batches waiting for labels, in the order they were processed."""
        query = (
            sa.select(LABEL_BATCHES)
            .where(LABEL_BATCHES.c.model == model)
            .order_by(LABEL_BATCHES.c.kept_at, LABEL_BATCHES.c.sha256)
        )
        with engine_for(self.url).begin() as con:
            rows = con.execute(query).mappings().all()
        names = ("sha256", "batch", "rows", "kept", "path", "joined", "challenged", "label_rows")
        return [KeptBatch(**{k: r[k] for k in names}) for r in rows]

    def record_join(self, model: str, batch: KeptBatch, record: str) -> None:
        """Store a join's outcome: the batch's counts and tested flag, and its record."""
        update = (
            LABEL_BATCHES.update()
            .where(LABEL_BATCHES.c.sha256 == batch.sha256)
            .values(joined=batch.joined, challenged=batch.challenged, label_rows=batch.label_rows)
        )
        with engine_for(self.url).begin() as con:
            con.execute(update)
            con.execute(
                LABEL_RECORDS.insert().values(
                    model=model, batch_sha256=batch.sha256, record=record, recorded_at=now()
                )
            )

    def refused_by(self, model: str) -> dict[str, str | None]:
        """The model's kept batches whose join was refused for unknown classes: sha256 -> the
        champion version that refused it (from the batch's last record)."""
        refused = (
            sa.select(LABEL_BATCHES.c.sha256)
            .where(LABEL_BATCHES.c.model == model)
            .where(LABEL_BATCHES.c.label_rows == REFUSED_ROWS)
        )
        query = (
            sa.select(LABEL_RECORDS.c.batch_sha256, LABEL_RECORDS.c.record)
            .where(LABEL_RECORDS.c.model == model)
            .where(LABEL_RECORDS.c.batch_sha256.in_(refused))
            .order_by(LABEL_RECORDS.c.id)
        )
        with engine_for(self.url).begin() as con:
            last = {r[0]: str(r[1]) for r in con.execute(query).all()}  # the newest wins
        return {sha: json.loads(record).get("champion_version") for sha, record in last.items()}

    def records(self, model: str) -> list[str]:
        """The model's label records (JSON), oldest first."""
        query = (
            sa.select(LABEL_RECORDS.c.record)
            .where(LABEL_RECORDS.c.model == model)
            .order_by(LABEL_RECORDS.c.id)
        )
        with engine_for(self.url).begin() as con:
            return [str(r[0]) for r in con.execute(query).all()]
