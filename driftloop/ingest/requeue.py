"""Put quarantined batches back in landing/ for another try (`driftloop requeue`).

A requeue is a move like the others, written ahead: intent (quarantine path -> landing path,
status ``requeued``) -> rename -> record, so a crash between any two steps is finished by
``recover`` at the start of the next run. The batch's earlier records stay in the ledger as
its history; the ``requeued`` record makes its content new again (``Ledger.find_done`` counts
only judgements after it), so it is not refused as a duplicate of itself. The ``.reason.txt``
note beside the quarantined file is removed once the requeue is recorded: its text is the
``reason`` of the quarantined record, and the requeued record quotes it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from driftloop.core.errors import IngestError
from driftloop.ingest.faults import checkpoint
from driftloop.ingest.ledger import Ledger
from driftloop.ingest.ledger_tables import REQUEUED, LedgerEntry
from driftloop.ingest.zone import Zone

log = logging.getLogger(__name__)
QUARANTINED, DUPLICATE = "quarantined", "duplicate"


@dataclass(frozen=True)
class Quarantined:
    """A file in quarantine/ and the ledger record that put it there."""

    path: str
    record: LedgerEntry


def quarantined(zone: Zone, ledger: Ledger) -> list[Quarantined]:
    """Every file in quarantine/ with the record that put it there (files with none left out)."""
    found = []
    for path in zone.quarantined():
        record = ledger.last_at(path)
        if record is not None and record.status in (QUARANTINED, DUPLICATE):
            found.append(Quarantined(path, record))
    return found


def select(items: list[Quarantined], reason: str = "") -> list[Quarantined]:
    """The batches quarantined for themselves (not duplicates) whose reason holds `reason`."""
    text = reason.casefold()
    return [
        q for q in items if q.record.status == QUARANTINED and text in q.record.reason.casefold()
    ]


def by_name(zone: Zone, items: list[Quarantined], names: list[str]) -> list[Quarantined]:
    """The quarantined files with these names; an IngestError names any that cannot go back."""
    known = {zone.name(q.path): q for q in items}
    chosen = []
    for name in names:
        q = known.get(name)
        if q is None:
            raise IngestError(
                f"{name}: no quarantined batch of that name in {zone.quarantine}; nothing was "
                "moved. `driftloop status` lists the quarantined batches (give the file name "
                "as it is in quarantine/)."
            )
        if q.record.status == DUPLICATE:
            raise IngestError(
                f"{name}: quarantined as a duplicate ({q.record.reason}); another try would "
                "find the same content again, so nothing was moved. Delete the copy instead."
            )
        chosen.append(q)
    return chosen


def requeue_one(zone: Zone, ledger: Ledger, item: Quarantined) -> LedgerEntry:
    """Move one quarantined batch back into landing/ (write-ahead); return the new record."""
    old = item.record
    dest = zone.free_name(zone.landing, old.batch, old.sha256)
    entry = LedgerEntry(
        old.batch,
        old.sha256,
        REQUEUED,
        f"requeued from {item.path} for another try; it was {old.status} at "
        f"{old.recorded_at}: {old.reason}",
        rows=old.rows,
        destination=dest,
        attempts=old.attempts,
    )
    ledger.intend(item.path, entry)
    checkpoint("intent")
    zone.move(item.path, dest)
    checkpoint("moved")
    zone.remove_note(item.path)  # a crash before the record: recover records (and removes) it
    done = ledger.settle(item.path)
    checkpoint("recorded")
    log.info("%s: requeued %s -> %s", old.batch, item.path, dest)
    return done


def requeue(zone: Zone, ledger: Ledger, items: list[Quarantined]) -> list[LedgerEntry]:
    """Requeue each selected batch, in order; return their requeued records."""
    zone.ensure_dirs()
    return [requeue_one(zone, ledger, q) for q in items]


def describe(done: LedgerEntry) -> dict[str, Any]:
    """A requeued record as printed by `driftloop requeue --json`."""
    return {"batch": done.batch, "status": done.status, "landing": done.destination}
