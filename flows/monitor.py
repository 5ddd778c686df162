"""The monitor flow: finish interrupted moves, then process every waiting batch, oldest first."""

from __future__ import annotations

from pathlib import PurePosixPath

from prefect import flow, get_run_logger, tags
from prefect.context import TagsContext

import driftloop.flows.embedded  # noqa: F401  (the embedded server's port, before Prefect runs)
from driftloop.core import progress
from driftloop.core.config import load_config
from driftloop.core.errors import DriftloopError, TrackingUnreachable
from driftloop.core.faults import system_fault
from driftloop.core.records import Action, BatchRecord, LabelRecord, Status
from driftloop.flows.context import RunContext, current
from driftloop.flows.events import emit_outcome
from driftloop.flows.faults import stop_run
from driftloop.flows.heartbeats import embedded, without_heartbeats
from driftloop.flows.late_labels import join_late_labels
from driftloop.flows.preflight import require_champion
from driftloop.flows.process_batch import process_batch
from driftloop.flows.publish import monitor_run_name, outcome_tags, run_tags, tag_this_run
from driftloop.flows.tasks import check_tracking_task, io
from driftloop.ingest import fail, recover
from driftloop.ingest.admit import attempt_now
from driftloop.ingest.zone_lock import holds_zone
from driftloop.models.tracking import check_tracking


def failed_record(path: str, error: BaseException, attempt: str = "") -> BatchRecord:
    """The record of a failed batch: waiting to be tried again, or quarantined at max_attempts."""
    gone = attempt.endswith("moved to quarantine")
    where = (
        "it failed too often and is moved to quarantine"
        if gone
        else "the batch stays in the landing folder and is tried again by the next run"
    )
    return BatchRecord(
        PurePosixPath(str(path)).name,
        Status.FAILED,
        reason=f"{type(error).__name__}: {error}; {where}" + (f" ({attempt})" if attempt else ""),
        action=Action.QUARANTINED if gone else Action.FAILED,
    )


def _outage(uri: str) -> TrackingUnreachable | None:
    """The error to end the run with if the tracking server is down now, else None."""
    try:
        check_tracking(uri)
    except TrackingUnreachable as err:
        return err
    return None


def _run_batches(ctx: RunContext, waiting: list[str]) -> list[BatchRecord]:
    """Each waiting batch through the batch task; a failure is counted and the next one goes on."""
    logger = get_run_logger()
    cfg = ctx.cfg
    records = []
    for i, path in enumerate(waiting):
        progress.current().step(f"batch {i + 1}/{len(waiting)}: {PurePosixPath(str(path)).name}")
        before = attempt_now(path, cfg, ctx.ledger)
        try:
            records.append(process_batch(path, ctx.config_path))
        except Exception as err:  # the batch's task run is Failed; its batch stays waiting
            fault = _outage(cfg.mlflow_uri) or system_fault(err)
            if fault is not None:  # ours, not the batch's: uncounted, every batch waits
                raise stop_run(fault, path, cfg, ctx.ledger, before, waiting[i:]) from err
            logger.error("%s failed: %s", path, err)
            attempt = fail(path, cfg, ctx.ledger, f"{type(err).__name__}: {err}")
            records.append(failed_record(path, err, attempt))
            emit_outcome(cfg.model.name, records[-1], "")  # an event only if it was quarantined
    return records


@flow(name="monitor", flow_run_name=monitor_run_name)
@holds_zone
def monitor(config_path: str | None = None) -> list[BatchRecord | LabelRecord]:
    """Process, once, each batch waiting in the landing folder; return one record per batch.

    Moves a crash interrupted are finished first. A batch whose processing fails for a fault
    of its own stays waiting (its attempt counted) and does not stop the batches after it;
    after `[ingest] max_attempts` failures it goes to quarantine. A system fault (the tracking
    server down, a store missing or corrupt, the disk full: see driftloop/core/faults.py)
    stops the run with a SystemFault; the attempt is uncounted and every batch stays waiting.
    Late label files are admitted and joined before the batches and again after them
    (flows/late_labels.py): one `LabelRecord` per batch that gained labels follows the batch
    records.
    """
    ctx = RunContext.open(config_path)
    tag_this_run(run_tags(ctx.cfg.model.name))  # its task runs are untagged: see below
    # Its task runs carry no tags: Prefect asks the server for a tagged task run's tag
    # concurrency slots first, a read-then-write that the embedded SQLite server refuses
    # ("database is locked", a 503 retried after ~2 s) while it records the last batch's
    # events: half the batches of 200,000 rows waited so. The run itself is tagged.
    with TagsContext(current_tags=set()):
        return _monitor(ctx)


def _monitor(ctx: RunContext) -> list[BatchRecord | LabelRecord]:
    """The body of `monitor`, its task runs untagged."""
    logger = get_run_logger()
    for done in recover(ctx.zone, ctx.ledger):
        logger.warning("%s: interrupted move finished: %s", done.batch, done.status)
    waiting = ctx.zone.pending()
    logger.info("%d batch(es) waiting in %s", len(waiting), ctx.zone.landing)
    if waiting:
        io(check_tracking_task, ctx.cfg)(ctx.cfg.mlflow_uri)
        # A state error: no batch touched, no attempt counted.
        require_champion(ctx.cfg, len(waiting), ctx.client)
    with current(ctx):
        # Labels already waiting join the batches processed before (a batch sooner), then the
        # labels of this run's batches, and those that came during it, join after them.
        early = join_late_labels(ctx)
        batches = _run_batches(ctx, waiting)
        if batches:  # the runs list shows what this run's batches found and did
            tag_this_run([*run_tags(ctx.cfg.model.name), *outcome_tags(batches)])
        records: list[BatchRecord | LabelRecord] = [*batches]
        return records + early + join_late_labels(ctx)


def run_monitor(config_path: str | None = None) -> list[BatchRecord | LabelRecord]:
    """`monitor` in this process, as `driftloop run` calls it (no heartbeats when embedded).

    The run is created with the model's tags, so it need not add them itself (a round trip).
    """
    try:
        model = load_config(config_path).model.name
    except (DriftloopError, OSError):  # the flow reports the config's problem itself
        return monitor(config_path=config_path)
    with without_heartbeats(embedded()), tags(*run_tags(model)):
        return monitor(config_path=config_path)
