"""Prefect flows that wire ingest, drift and models together; the logic lives in those packages."""

from flows.monitor import monitor
from flows.process_batch import process_batch
from flows.retrain import retrain

__all__ = ["monitor", "process_batch", "retrain"]
