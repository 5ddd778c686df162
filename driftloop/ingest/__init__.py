"""Ingest: find waiting batches, read and validate them, and record each exactly once."""

from driftloop.ingest.admit import Admission, admit, complete, quarantine
from driftloop.ingest.landing import move_batch, pending_batches, sha256_of
from driftloop.ingest.ledger import Ledger, LedgerEntry
from driftloop.ingest.read import batch_format, read_table
from driftloop.ingest.validate import validate_batch

__all__ = [
    "Admission",
    "Ledger",
    "LedgerEntry",
    "admit",
    "batch_format",
    "complete",
    "move_batch",
    "pending_batches",
    "quarantine",
    "read_table",
    "sha256_of",
    "validate_batch",
]
