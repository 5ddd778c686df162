"""The monitor flow: process every batch waiting in the landing folder, oldest first."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from driftloop.config import load_config
from driftloop.ingest import pending_batches
from flows.process_batch import process_batch


@flow(name="monitor")
def monitor(config_path: str | None = None) -> list[dict[str, Any]]:
    """Process, once, each batch waiting in the landing folder; return one record per batch."""
    cfg = load_config(config_path)
    cfg.ensure_dirs()
    waiting = pending_batches(cfg.landing_dir)
    get_run_logger().info("%d batch(es) waiting in %s", len(waiting), cfg.landing_dir)
    return [process_batch(str(path), config_path) for path in waiting]
