"""Prefect flows that wire ingest, drift and models together; the logic lives in those packages."""

from driftloop.flows.events import DRIFT_EVENT, drift_trigger, emit_drift
from driftloop.flows.monitor import monitor
from driftloop.flows.process_batch import process_batch
from driftloop.flows.retrain import retrain
from driftloop.flows.slots import ensure_retrain_limit, limit_name, retrain_slot

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
