"""The monitor flow: finish interrupted moves, then process every waiting batch, oldest first."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from prefect import flow, get_run_logger

from driftloop.core.config import Config, load_config
from driftloop.core.errors import TrackingUnreachable
from driftloop.core.faults import system_fault
from driftloop.core.stores import check_stores
from driftloop.flows.dask import dask_task_runner
from driftloop.flows.faults import stop_run
from driftloop.flows.process_batch import process_batch
from driftloop.flows.tasks import check_tracking_task, io
from driftloop.ingest import fail, open_ledger, recover, zone_of
from driftloop.ingest.admit import attempt_now
from driftloop.models.tracking import check_tracking

FAILED = "failed"


def failed_record(path: str, error: BaseException, attempt: str = "") -> dict[str, Any]:
    """The record of a failed batch: waiting to be tried again, or quarantined at max_attempts."""
    gone = attempt.endswith("moved to quarantine")
    where = (
        "it failed too often and is moved to quarantine"
        if gone
        else "the batch stays in the landing folder and is tried again by the next run"
    )
    return {
        "batch": PurePosixPath(str(path)).name,
        "status": FAILED,
        "reason": f"{type(error).__name__}: {error}; {where}"
        + (f" ({attempt})" if attempt else ""),
        "rows": 0,
        "drift": False,
        "drifted_features": [],
        "p_values": {},
        "action": "quarantined" if gone else FAILED,
        "champion_version": None,
        "accuracy_before": None,
        "accuracy_after": None,
    }


def _outage(cfg: Config) -> TrackingUnreachable | None:
    """The error to end the run with if the tracking server is down now, else None."""
    try:
        check_tracking(cfg.mlflow_uri)
    except TrackingUnreachable as err:
        return err
    return None


@flow(name="monitor")
def monitor(config_path: str | None = None) -> list[dict[str, Any]]:
    """Process, once, each batch waiting in the landing folder; return one record per batch.

    Moves a crash interrupted are finished first. A batch whose processing fails for a fault
    of its own stays waiting (its attempt counted) and does not stop the batches after it;
    after `[ingest] max_attempts` failures it goes to quarantine. A system fault (the tracking
    server down, a store missing or corrupt, the disk full: see driftloop/core/faults.py)
    stops the run with a SystemFault; the attempt is uncounted and every batch stays waiting.
    """
    cfg = load_config(config_path)
    check_stores(cfg)
    cfg.ensure_dirs()
    logger = get_run_logger()
    zone = zone_of(cfg)
    zone.ensure_dirs()
    ledger = open_ledger(cfg)
    for done in recover(zone, ledger):
        logger.warning("%s: interrupted move finished: %s", done.batch, done.status)
    waiting = zone.pending()
    logger.info("%d batch(es) waiting in %s", len(waiting), zone.landing)
    if waiting:
        io(check_tracking_task, cfg)(cfg)
    run_batch = process_batch
    if cfg.prefect.task_runner == "dask":
        run_batch = process_batch.with_options(task_runner=dask_task_runner(cfg))
    records = []
    for i, path in enumerate(waiting):
        before = attempt_now(path, cfg, ledger)
        # The record is the subflow's return value, taken in memory: `return_state=True` then
        # `state.result()` raises MissingResult when the API answers a retried state update
        # with its own copy of the state, which holds no result (results are not persisted).
        try:
            records.append(run_batch(path, config_path))
        except Exception as err:  # the subflow run is Failed; its batch stays waiting
            logger.error("%s failed: %s", path, err)
            fault = _outage(cfg) or system_fault(err)
            if fault is not None:  # ours, not the batch's: uncounted, every batch waits
                raise stop_run(fault, path, cfg, ledger, before, waiting[i:]) from err
            attempt = fail(path, cfg, ledger, f"{type(err).__name__}: {err}")
            records.append(failed_record(path, err, attempt))
    return records
