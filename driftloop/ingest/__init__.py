"""Ingest: find waiting batches, read and validate them, and record each exactly once."""

from driftloop.ingest.admit import Admission, admit, complete, fail, quarantine, zone_of
from driftloop.ingest.fingerprint import sha256_of
from driftloop.ingest.ledger import Ledger
from driftloop.ingest.ledger_open import open_ledger
from driftloop.ingest.ledger_tables import LedgerEntry
from driftloop.ingest.model_checks import unknown_labels, unseen_category_flood
from driftloop.ingest.read import batch_format, read_table
from driftloop.ingest.recover import recover
from driftloop.ingest.validate import validate_batch
from driftloop.ingest.zone import Zone

__all__ = [
    "Admission",
    "Ledger",
    "LedgerEntry",
    "Zone",
    "admit",
    "batch_format",
    "complete",
    "fail",
    "open_ledger",
    "quarantine",
    "read_table",
    "recover",
    "sha256_of",
    "unknown_labels",
    "unseen_category_flood",
    "validate_batch",
    "zone_of",
]
