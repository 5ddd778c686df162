"""The monitor flow: process every batch waiting in the landing folder, oldest first."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger

from driftloop.config import load_config
from driftloop.ingest import pending_batches
from flows.process_batch import process_batch

FAILED = "failed"


def failed_record(path: Path, error: BaseException | None) -> dict[str, Any]:
    """The record of a batch whose processing failed: it stays waiting in the landing folder."""
    return {
        "batch": path.name,
        "status": FAILED,
        "reason": f"{type(error).__name__}: {error}; the batch stays in the landing folder "
        "and is tried again by the next run",
        "rows": 0,
        "drift": False,
        "drifted_features": [],
        "p_values": {},
        "action": FAILED,
        "champion_version": None,
        "accuracy_before": None,
        "accuracy_after": None,
    }


@flow(name="monitor")
def monitor(config_path: str | None = None) -> list[dict[str, Any]]:
    """Process, once, each batch waiting in the landing folder; return one record per batch.

    A batch whose processing fails stays waiting and does not stop the batches after it.
    """
    cfg = load_config(config_path)
    cfg.ensure_dirs()
    logger = get_run_logger()
    waiting = pending_batches(cfg.landing_dir)
    logger.info("%d batch(es) waiting in %s", len(waiting), cfg.landing_dir)
    records = []
    for path in waiting:
        state = process_batch(str(path), config_path, return_state=True)
        if state.is_completed():
            records.append(state.result())
            continue
        error = state.result(raise_on_failure=False)
        logger.error("%s failed: %s", path.name, error)
        records.append(failed_record(path, error if isinstance(error, BaseException) else None))
    return records
