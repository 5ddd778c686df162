"""Admission of one waiting batch, and the crash-safe moves that end it.

Every batch ends in exactly one of processed/ or quarantine/ by the same four steps:
hash -> record intent (ledger ``moves``) -> move (one rename) -> record outcome (``batches``,
the intent deleted in the same transaction). A kill between any two steps leaves either the
batch still waiting (nothing recorded, or an intent that ``recover`` completes) or fully
recorded. Accepted batches also get an attempt record before any work on them, so a failed or
interrupted run counts as an attempt; after ``[ingest] max_attempts`` they go to quarantine.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import PurePosixPath

import pandas as pd

from driftloop.core.config import Config
from driftloop.core.errors import IngestError
from driftloop.core.records import Status
from driftloop.ingest.faults import checkpoint
from driftloop.ingest.fingerprint import Fingerprint
from driftloop.ingest.ledger import Ledger
from driftloop.ingest.ledger_tables import Attempt, LedgerEntry
from driftloop.ingest.read import TEXT_FORMATS, batch_format, iter_chunks, require_format
from driftloop.ingest.recover import finish_move
from driftloop.ingest.schema import Rules
from driftloop.ingest.validate import validate_chunks
from driftloop.ingest.zone import Zone

log = logging.getLogger(__name__)

ACCEPTED, PROCESSED, QUARANTINED = Status.ACCEPTED, Status.PROCESSED, Status.QUARANTINED
DUPLICATE, WAITING = Status.DUPLICATE, Status.WAITING


@dataclass
class Admission:
    """What ingest made of a batch file; `frame` is set only when it was accepted.

    `frame` holds the batch's validated rows, or for a batch of more than `[ingest]
    sample_rows` rows a seeded uniform sample of that many; `rows` counts the whole batch.
    """

    path: PurePosixPath
    sha256: str
    status: str
    reason: str = ""
    frame: pd.DataFrame | None = None
    destination: str = ""
    source: str = ""
    attempts: int = 0
    flow_run_id: str = ""
    rows: int = 0
    stamp: tuple[int, int] = (0, 0)  # size and mtime (ns) when hashed

    @property
    def sampled(self) -> bool:
        """True when `frame` is a sample of a larger batch."""
        return self.frame is not None and len(self.frame) < self.rows

    @property
    def has_labels(self) -> bool:
        """True when the accepted batch carries the target column."""
        return self.frame is not None and self.frame.attrs.get("target") in self.frame.columns


def zone_of(cfg: Config) -> Zone:
    """The configured landing zone."""
    return Zone(cfg.zone_url, cfg.ingest.settle_seconds)


def finish(zone: Zone, ledger: Ledger, source: str, entry: LedgerEntry) -> LedgerEntry:
    """Move a batch to its one end place: record intent, move, record outcome."""
    folder = zone.processed if entry.status == PROCESSED else zone.quarantine
    entry = replace(entry, destination=zone.free_name(folder, entry.batch, entry.sha256))
    ledger.intend(source, entry)
    checkpoint("intent")
    if entry.reason and entry.status != PROCESSED:
        zone.write_note(entry.destination, entry.reason)
        checkpoint("noted")
    zone.move(source, entry.destination)
    checkpoint("moved")
    done = ledger.settle(source)
    checkpoint("recorded")
    if done.status != PROCESSED:
        log.warning("%s: %s -> %s", done.batch, done.status, done.reason)
    return done


def _ended(adm: Admission, done: LedgerEntry) -> Admission:
    return replace(
        adm, status=done.status, reason=done.reason, frame=None, destination=done.destination
    )


def _close(zone: Zone, ledger: Ledger, adm: Admission, status: str, reason: str) -> Admission:
    entry = LedgerEntry(
        adm.path.name,
        adm.sha256,
        status,
        reason,
        flow_run_id=adm.flow_run_id,
        rows=adm.rows,
        attempts=adm.attempts,
        retryable=reason.startswith(f"{adm.path.name}: processing failed"),
    )
    return _ended(adm, finish(zone, ledger, adm.source, entry))


def read_validated(
    zone: Zone, source: str, name: str, fp: Fingerprint, cfg: Config
) -> tuple[pd.DataFrame, int]:
    """Read and validate a batch block by block: its valid rows (sampled) and its row count.

    Memory holds one block plus at most `[ingest] sample_rows` rows, a uniform sample seeded by
    the content hash (the same file always gives the same sample).
    """
    fmt = require_format(name)
    ing = cfg.ingest
    chunks = iter_chunks(
        name, fmt, lambda: zone.open(source), fp, ing.block_mib, cfg.features.numeric
    )
    seed = int(fp.sha256[:16], 16)
    return validate_chunks(chunks, name, Rules.from_config(cfg), True, ing.sample_rows, seed)


def _gave_up(name: str, attempts: int, limit: int, error: str) -> str:
    return (
        f"{name}: processing failed {attempts} time(s), [ingest] max_attempts = {limit}; last "
        f"error: {error}. Fix the cause, then `driftloop requeue {name}` to try again (it is "
        "not treated as a duplicate)."
    )


def _hash(zone: Zone, adm: Admission) -> Fingerprint | None:
    """Hash the batch, noting its size and mtime; None (a reason set) if it changed meanwhile."""
    adm.stamp = zone.stamp(adm.source)
    fp = zone.fingerprint(adm.source, text=batch_format(adm.path.name) in TEXT_FORMATS)
    checkpoint("hashed")
    adm.sha256 = fp.sha256
    if fp.size != adm.stamp[0] or zone.stamp(adm.source) != adm.stamp:
        adm.reason = (
            f"{adm.path.name}: still being written (it changed while it was read); left waiting"
        )
        return None
    return fp


def _odd_name_reason(escaped: str) -> str:
    if not escaped:
        return ""
    return (
        f"{escaped}: the file name is not valid UTF-8 (its bytes are shown escaped; the file was "
        "renamed to this form so that it could be recorded). Give the file a UTF-8 name and "
        "drop it into the landing folder again."
    )


def admit(
    path: str | os.PathLike[str], cfg: Config, ledger: Ledger, flow_run_id: str = ""
) -> Admission:
    """Accept a batch (returning its validated frame) or move it to quarantine with a reason."""
    zone = zone_of(cfg)
    source, odd_name = zone.safe_source(zone.locate(path))
    name = zone.name(source)
    adm = Admission(PurePosixPath(name), "", WAITING, source=source, flow_run_id=flow_run_id)
    interrupted = dict(ledger.moves()).get(source)
    if interrupted is not None:
        return _ended(
            replace(adm, sha256=interrupted.sha256), finish_move(zone, ledger, source, interrupted)
        )
    fp = _hash(zone, adm)
    if fp is None:
        return adm
    prior = ledger.find_done(fp.sha256)
    if prior is not None:
        reason = (
            f"duplicate: same content (sha256 {fp.sha256[:12]}) as {prior.batch}, "
            f"recorded {prior.status} at {prior.recorded_at}; not processed again"
        )
        return _close(zone, ledger, adm, DUPLICATE, reason)
    other = ledger.in_flight(fp.sha256, source)
    if other is not None:
        reason = (
            f"duplicate: same content (sha256 {fp.sha256[:12]}) as {other.batch}, which is "
            f"waiting after {other.attempts} attempt(s); not processed again"
        )
        return _close(zone, ledger, adm, DUPLICATE, reason)
    escape = zone.escape_reason(source) or _odd_name_reason(odd_name)
    if escape:
        return _close(zone, ledger, adm, QUARANTINED, escape)
    before = ledger.attempt(source, fp.sha256)
    limit = cfg.ingest.max_attempts
    if before is not None and before.attempts >= limit:
        adm.attempts = before.attempts
        reason = _gave_up(name, before.attempts, limit, before.last_error)
        return _close(zone, ledger, adm, QUARANTINED, reason)
    adm.attempts = ledger.start_attempt(source, name, fp.sha256, flow_run_id)
    checkpoint("attempt")
    try:
        frame, adm.rows = read_validated(zone, source, name, fp, cfg)
    except IngestError as err:
        return _close(zone, ledger, adm, QUARANTINED, str(err))
    if zone.stamp(source) != adm.stamp:
        adm.reason = f"{name}: changed while it was validated; left waiting for the next run"
        return adm
    frame.attrs["target"] = cfg.model.target
    adm.frame, adm.status = frame, ACCEPTED
    if adm.sampled:
        log.info(
            "%s: %d rows; drift, scoring and fine-tuning use a sample of %d",
            name,
            adm.rows,
            len(frame),
        )
    return adm


def quarantine(adm: Admission, cfg: Config, ledger: Ledger, reason: str) -> Admission:
    """Send an admitted batch to quarantine after all (a check that needed the model failed)."""
    return _close(zone_of(cfg), ledger, adm, QUARANTINED, reason)


def require_unchanged(zone: Zone, adm: Admission) -> None:
    """Refuse to record a batch whose file changed since it was hashed (rehashed if in doubt)."""
    if zone.stamp(adm.source) == adm.stamp:
        return
    text = batch_format(adm.path.name) in TEXT_FORMATS
    if zone.fingerprint(adm.source, text).sha256 == adm.sha256:
        return  # touched, not changed
    raise IngestError(
        f"{adm.path.name}: the file changed while it was processed (rows were added or "
        "replaced after it was validated); it stays in the landing folder and is read again, "
        "whole, by the next run. Producers should write to '.NAME.tmp' and rename when done."
    )


def complete(adm: Admission, cfg: Config, ledger: Ledger, result: dict[str, object]) -> Admission:
    """Move an accepted batch to processed/ and record it with its outcome."""
    entry = LedgerEntry(
        adm.path.name,
        adm.sha256,
        PROCESSED,
        rows=adm.rows,
        result=result,
        flow_run_id=adm.flow_run_id,
        attempts=adm.attempts,
    )
    zone = zone_of(cfg)
    require_unchanged(zone, adm)
    done = finish(zone, ledger, adm.source, entry)
    adm.status, adm.destination = PROCESSED, done.destination
    return adm


def attempt_now(path: str, cfg: Config, ledger: Ledger) -> Attempt | None:
    """The attempt record of a waiting batch as it is now (to restore after a system fault)."""
    return ledger.attempt(zone_of(cfg).locate(path))


def uncount(path: str, cfg: Config, ledger: Ledger, before: Attempt | None) -> None:
    """Undo the attempt a run started on a batch: a system fault is not the batch's to count.

    A batch that already reached processed/ or quarantine/ has nothing left to undo.
    """
    zone = zone_of(cfg)
    source = zone.locate(path)
    if zone.exists(source):
        ledger.restore_attempt(source, before)


def fail(path: str, cfg: Config, ledger: Ledger, error: str) -> str:
    """Note a failed processing attempt; quarantine the batch once it reached max_attempts."""
    zone = zone_of(cfg)
    source = zone.locate(path)
    attempt = ledger.fail_attempt(source, error)
    limit = cfg.ingest.max_attempts
    if attempt is None or not zone.exists(source):
        return ""
    if attempt.attempts < limit:
        return f"attempt {attempt.attempts} of {limit}"
    adm = Admission(
        PurePosixPath(attempt.batch),
        attempt.sha256,
        WAITING,
        source=source,
        attempts=attempt.attempts,
        flow_run_id=attempt.flow_run_id,
    )
    _close(zone, ledger, adm, QUARANTINED, _gave_up(attempt.batch, attempt.attempts, limit, error))
    return f"attempt {attempt.attempts} of {limit}: moved to quarantine"
