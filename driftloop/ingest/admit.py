"""Admission of one waiting batch: hash, duplicate check, read, validate; bad ones to quarantine."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from driftloop.config import Config
from driftloop.errors import IngestError
from driftloop.ingest.landing import move_batch, sha256_of
from driftloop.ingest.ledger import Ledger, LedgerEntry
from driftloop.ingest.read import read_table
from driftloop.ingest.validate import validate_batch

log = logging.getLogger(__name__)

ACCEPTED, PROCESSED, QUARANTINED, DUPLICATE = "accepted", "processed", "quarantined", "duplicate"


@dataclass
class Admission:
    """What ingest made of a batch file; `frame` is set only when it was accepted."""

    path: Path
    sha256: str
    status: str
    reason: str = ""
    frame: pd.DataFrame | None = None
    destination: str = ""

    @property
    def rows(self) -> int:
        """Rows in the accepted frame (0 when not accepted)."""
        return 0 if self.frame is None else len(self.frame)

    @property
    def has_labels(self) -> bool:
        """True when the accepted batch carries the target column."""
        return self.frame is not None and self.frame.attrs.get("target") in self.frame.columns


def quarantine(adm: Admission, cfg: Config, ledger: Ledger, reason: str) -> Admission:
    """Send an admitted batch to quarantine after all (a check that needed the model failed)."""
    return _reject(adm.path, adm.sha256, QUARANTINED, reason, cfg, ledger)


def _reject(
    path: Path, sha: str, status: str, reason: str, cfg: Config, ledger: Ledger
) -> Admission:
    target = move_batch(path, cfg.quarantine_dir, sha, reason)
    ledger.record(
        LedgerEntry(
            batch=path.name, sha256=sha, status=status, reason=reason, destination=str(target)
        )
    )
    log.warning("%s: %s -> %s", path.name, status, reason)
    return Admission(path, sha, status, reason, destination=str(target))


def admit(path: Path, cfg: Config, ledger: Ledger) -> Admission:
    """Accept a batch (returning its validated frame) or move it to quarantine with a reason."""
    sha = sha256_of(path)
    prior = ledger.find(sha, PROCESSED) or ledger.find(sha, QUARANTINED)
    if prior is not None:
        reason = (
            f"duplicate: same content (sha256 {sha[:12]}) as {prior.batch}, "
            f"recorded {prior.status} at {prior.recorded_at}; not processed again"
        )
        return _reject(path, sha, DUPLICATE, reason, cfg, ledger)
    feats = cfg.features
    try:
        raw = read_table(path, feats.categorical)
        frame = validate_batch(
            raw,
            path.name,
            feats.numeric,
            feats.categorical,
            cfg.model.target,
            cfg.ingest.extra_columns,
            cfg.ingest.min_rows,
        )
    except IngestError as err:
        return _reject(path, sha, QUARANTINED, str(err), cfg, ledger)
    frame.attrs["target"] = cfg.model.target
    return Admission(path, sha, ACCEPTED, frame=frame)


def complete(adm: Admission, cfg: Config, ledger: Ledger, result: dict[str, object]) -> Admission:
    """Move an accepted batch to processed/ and record it with its outcome."""
    target = move_batch(adm.path, cfg.processed_dir, adm.sha256)
    ledger.record(
        LedgerEntry(
            batch=adm.path.name,
            sha256=adm.sha256,
            status=PROCESSED,
            rows=adm.rows,
            destination=str(target),
            result=result,
        )
    )
    adm.status, adm.destination = PROCESSED, str(target)
    return adm
