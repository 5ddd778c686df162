"""Ingest: find waiting batches, read and validate them, and record each exactly once.

The names below load from their modules on first use, so the ledger alone (what `driftloop
status` reads) comes without pandas, pandera and fsspec. As when they were imported here,
`driftloop.ingest.admit` and `driftloop.ingest.recover` are the functions, not their modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftloop.core.lazy import make_lazy

if TYPE_CHECKING:  # what the names are, for type checkers; loaded on first use at run time
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

_HOME = {
    "Admission": "admit",
    "Ledger": "ledger",
    "LedgerEntry": "ledger_tables",
    "Zone": "zone",
    "admit": "admit",
    "batch_format": "read",
    "complete": "admit",
    "fail": "admit",
    "open_ledger": "ledger_open",
    "quarantine": "admit",
    "read_table": "read",
    "recover": "recover",
    "sha256_of": "fingerprint",
    "unknown_labels": "model_checks",
    "unseen_category_flood": "model_checks",
    "validate_batch": "validate",
    "zone_of": "admit",
}

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


make_lazy(__name__, _HOME)
