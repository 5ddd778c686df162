"""The batches over time: each ledger entry with its typed record and its full drift report.

The ledger keeps what was done with every batch (its ``result`` is a ``BatchRecord``); the
batch's MLflow run keeps the full drift report (``drift_report.json``, per-feature effect
sizes included). A batch that never reached the drift check (quarantined, duplicate) has a
record but no report; a run whose report cannot be read is kept with the reason why.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftloop.core.config import Config
from driftloop.core.errors import ConfigError
from driftloop.core.records import BatchRecord, Status
from driftloop.drift.errors import DriftError
from driftloop.drift.outcome import DriftReport
from driftloop.drift.report import read_json_report
from driftloop.ingest import LedgerEntry, open_ledger

__all__ = ["MAX_BATCHES", "BatchView", "load_timeline"]

log = logging.getLogger(__name__)

MAX_BATCHES = 1000
"""The most batches one page shows (``--last`` larger than this is refused)."""


@dataclass(frozen=True)
class BatchView:
    """One batch on the time axis: its ledger entry, its record and its drift report."""

    position: int
    entry: LedgerEntry
    record: BatchRecord
    report: DriftReport | None
    missing_report: str = ""

    @property
    def label(self) -> str:
        """A short name for axis labels: its position and file name."""
        return f"{self.position}. {Path(self.entry.batch).stem}"


def _record(entry: LedgerEntry) -> BatchRecord:
    """The entry's typed record (one from before typed records: built from the entry)."""
    if entry.result:
        return BatchRecord.from_dict(entry.result)
    return BatchRecord.ended(entry.batch, Status(entry.status), entry.reason, rows=entry.rows)


def _report(client: MlflowClient, run_id: str, scratch: Path) -> tuple[DriftReport | None, str]:
    """The drift report of one MLflow run, or None and why it could not be read."""
    try:
        path = client.download_artifacts(run_id, "drift_report.json", str(scratch / run_id))
        return read_json_report(path), ""
    except (MlflowException, OSError, DriftError) as exc:
        log.warning("no drift report for MLflow run %s: %s", run_id, exc)
        return None, f"drift_report.json of MLflow run {run_id} could not be read: {exc}"


def load_timeline(cfg: Config, last: int = 50) -> list[BatchView]:
    """The last ``last`` recorded batches, oldest first, each with its drift report if any."""
    if not 1 <= last <= MAX_BATCHES:
        raise ConfigError(f"--last must be between 1 and {MAX_BATCHES}, got {last}")
    entries = list(reversed(open_ledger(cfg).recent(last)))
    client = MlflowClient(tracking_uri=cfg.mlflow_uri)
    views = []
    with tempfile.TemporaryDirectory(prefix="driftloop-report-") as tmp:
        for i, entry in enumerate(entries, start=1):
            record = _record(entry)
            report, why = None, ""
            if record.mlflow_run_id:
                report, why = _report(client, record.mlflow_run_id, Path(tmp))
            views.append(BatchView(i, entry, record, report, why))
    return views
