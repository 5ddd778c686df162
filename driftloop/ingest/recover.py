"""Finish what a crash interrupted: every write-ahead move intent is brought to its end.

Run at the start of every ``driftloop run`` (and by ``admit`` for the batch in hand). Per
intent: the batch already at its destination -> record the outcome; still in landing with the
same content -> move it now, then record; in neither place -> record it as ``missing``.
A requeue (quarantine -> landing) is finished the same way, and its reason file removed.
A batch that was accepted but whose processing never finished has no intent, only an
attempt record: it is still waiting and is simply tried again (the crash counted as an
attempt).
"""

from __future__ import annotations

import logging

from driftloop.core.errors import IngestError
from driftloop.core.records import Status
from driftloop.ingest.ledger import Ledger
from driftloop.ingest.ledger_tables import REQUEUED, LedgerEntry
from driftloop.ingest.zone import Zone

log = logging.getLogger(__name__)
PROCESSED, MISSING = Status.PROCESSED, Status.MISSING


def finish_move(zone: Zone, ledger: Ledger, source: str, entry: LedgerEntry) -> LedgerEntry:
    """Bring one interrupted move to its end and record it; return the manifest record."""
    dest = entry.destination
    at_dest, at_source = zone.exists(dest), zone.exists(source)
    same = at_source and zone.fingerprint(source, text=False).sha256 == entry.sha256
    if at_dest:
        if same:  # copied (object store, another file system) but not yet deleted
            zone.remove(source)
        log.warning("%s: recovered a move to %s; recording it", entry.batch, dest)
        return _settled(zone, ledger, source, entry)
    if same:
        if entry.reason and entry.status not in (PROCESSED, REQUEUED):
            zone.write_note(dest, entry.reason)
        zone.move(source, dest)
        log.warning("%s: finished an interrupted move to %s", entry.batch, dest)
        return _settled(zone, ledger, source, entry)
    reason = (
        f"{entry.batch}: was being moved to {dest} but is neither there nor in the landing "
        "folder (someone else removed or replaced it); look for it where your producers keep "
        "copies and drop it in again."
    )
    log.error(reason)
    return ledger.settle(source, status=MISSING, reason=reason)


def _settled(zone: Zone, ledger: Ledger, source: str, entry: LedgerEntry) -> LedgerEntry:
    done = ledger.settle(source)
    if entry.status == REQUEUED:  # its reason is in the ledger: the note goes with the move
        zone.remove_note(source)
    return done


def recover(zone: Zone, ledger: Ledger) -> list[LedgerEntry]:
    """Finish every move a crash interrupted; return the records this completed."""
    done = []
    for source, entry in ledger.moves():
        try:
            done.append(finish_move(zone, ledger, source, entry))
        except (OSError, IngestError) as err:  # one stuck move must not stop the others
            log.error(
                "%s: cannot finish its move to %s yet: %s", entry.batch, entry.destination, err
            )
    return done
