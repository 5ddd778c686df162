"""Prefect flows that wire ingest, drift and models together; the logic lives in those packages."""

from flows.events import DRIFT_EVENT, drift_trigger, emit_drift
from flows.monitor import monitor
from flows.process_batch import process_batch
from flows.retrain import retrain
from flows.slots import ensure_retrain_limit, limit_name, retrain_slot

__all__ = [
    "DRIFT_EVENT",
    "drift_trigger",
    "emit_drift",
    "ensure_retrain_limit",
    "limit_name",
    "monitor",
    "process_batch",
    "retrain",
    "retrain_slot",
]
