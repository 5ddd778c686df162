"""The per-batch task: ingest, drift test, and fine-tune and gate when the drift calls for it.

A batch is one task run of the `monitor` flow run, named `process-batch/<file>`, with its
stages (ingest, drift, tracking, report...) as its nested task runs. It was a subflow: a flow
run costs the server a run, three state changes and a tag update (about 1 s per batch on 2
cores), a task run a few events. Its verdict and action are in its report artifact's
description and on the monitor run's tags.
"""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TagsContext
from prefect.runtime import flow_run, task_run

from driftloop import drift
from driftloop.core.records import Action, BatchRecord, Status
from driftloop.flows.challenge import challenge_batch, request_for
from driftloop.flows.context import RunContext, context_for
from driftloop.flows.events import DRIFT_EVENT, emit_drift, emit_outcome
from driftloop.flows.late_labels import keep_unlabelled
from driftloop.flows.lean import lean
from driftloop.flows.publish import (
    batch_run_name,
    publish_task,
)
from driftloop.flows.slots import retrain_slot, slot_options
from driftloop.flows.tasks import (
    check_labels,
    complete_task,
    drift_task,
    ingest_task,
    io,
    load_champion_task,
    open_run_task,
    predict_task,
    replay_task,
    track_task,
)
from driftloop.ingest import Admission
from driftloop.ingest.zone_lock import holds_zone
from driftloop.models.at_risk import mark_at_risk
from driftloop.models.champion import Champion
from driftloop.models.evaluate import Predicted
from driftloop.models.trigger import Trigger, at_risk_trigger, retrain_trigger


def _ended(adm: Admission) -> BatchRecord:
    """The record of a batch that went to quarantine, was a duplicate, or is still waiting."""
    return BatchRecord.ended(
        adm.path.name,
        Status(adm.status),
        adm.reason,
        sha256=adm.sha256,
        rows=adm.rows,
        attempts=adm.attempts,
        flow_run_id=str(flow_run.get_id() or ""),
        task_run_id=str(task_run.get_id() or ""),
    )


def _drift_record(
    adm: Admission, champion: Champion, report: drift.DriftReport, seen: Predicted
) -> BatchRecord:
    """The record of a tested batch, before anything is done about its drift."""
    score = seen.score
    return BatchRecord(
        adm.path.name,
        Status.PROCESSED,
        sha256=adm.sha256,
        rows=adm.rows,
        drift=report.drift,
        drifted_features=report.drifted_features,
        p_values=report.p_values,
        champion_version=champion.version,
        metric=seen.metric,
        score_before=score,
        score_after=score,
        score_batch=score,
        labelled=adm.has_labels,
        estimated_score=None if seen.estimate is None else seen.estimate.value,
        estimate_low=None if seen.estimate is None else seen.estimate.low,
        estimate_high=None if seen.estimate is None else seen.estimate.high,
        flow_run_id=str(flow_run.get_id() or ""),
        task_run_id=str(task_run.get_id() or ""),
        attempts=adm.attempts,
    )


def _trigger(ctx: RunContext, report: drift.DriftReport, labelled: bool) -> Trigger:
    """Whether the drift calls for a challenger (labels, what drifted, the cool-down)."""
    d = ctx.cfg.drift
    recent = [  # what was done with the batches before this one, for the cool-down
        (e.batch, Action(BatchRecord.from_dict(e.result).action))
        for e in ctx.ledger.recent(d.retrain_cooldown if report.drift else 0, Status.PROCESSED)
    ]
    at_risk = at_risk_trigger(report, labelled, ctx.cfg.labels.trigger)
    return at_risk or retrain_trigger(report, labelled, d.retrain_on, d.retrain_cooldown, recent)


def _act(
    ctx: RunContext,
    record: BatchRecord,
    trigger: Trigger,
    adm: Admission,
    champion: Champion,
    seen: Predicted,
    report: drift.DriftReport,
) -> None:
    """Do what the drift calls for: nothing, announce it, or challenge the champion now."""
    if record.drift and not trigger.retrain:
        record.action, record.reason = trigger.action, trigger.reason
        if trigger.action == Action.AT_RISK:
            mark_at_risk(ctx.client, champion.name, champion.version, record.batch, trigger.reason)
    elif trigger.retrain and ctx.cfg.prefect.retrain == "event":
        record.action = Action.DRIFT_EVENT
        record.reason = f"drift found; {DRIFT_EVENT} sent for the retrain deployment"
    elif trigger.retrain and adm.frame is not None:
        record.mlflow_run_id = io(open_run_task, ctx.cfg)(ctx, adm, report)
        request = request_for(adm.path.name, adm.sha256, record.mlflow_run_id or "", "drift")
        with retrain_slot(*slot_options(ctx.cfg)):
            done = challenge_batch(ctx, champion, adm.frame, request, seen.errors)
        record.action, record.reason = done.action, done.reason
        record.challenger_version, record.champion_version = (
            done.challenger_version,
            done.champion_version,
        )
        record.score_before, record.score_after = done.score_before, done.score_after


def _finish(
    ctx: RunContext,
    record: BatchRecord,
    adm: Admission,
    champion: Champion,
    report: drift.DriftReport,
    seen: Predicted,
    step: int,
) -> str:
    """Replay, write the batch's MLflow run, publish the report, move the batch to processed/;
    the run's link."""
    cfg = ctx.cfg
    if adm.has_labels and adm.frame is not None:
        target = ctx.options.spec.target
        lean(replay_task)(ctx.options.replay, target, champion, adm.frame, adm.sha256)
    track = io(track_task, cfg)
    record.mlflow_run_id, link = track(ctx, adm, champion, report, record, step, seen.estimate)
    lean(publish_task)(cfg.model.name, report, adm, record.mlflow_run_id, link, record)
    keep_unlabelled(ctx, adm)  # its late labels are joined by a later run
    lean(complete_task)(adm, cfg, ctx.ledger, record)
    return link


def _announce(model: str, record: BatchRecord, link: str) -> None:
    """The batch's events (after it reached its end place: a retrain run finds it there)."""
    logger = get_run_logger()
    if record.drift:  # the retrain deployment acts only on a drift event that asks it to
        retrain = record.action == Action.DRIFT_EVENT
        logger.info("%s event %s", DRIFT_EVENT, emit_drift(model, record, link, retrain))
    for event_id in emit_outcome(model, record, link):
        logger.info("%s: event %s (%s)", record.batch, event_id, record.action)


@task(name="process-batch", task_run_name=batch_run_name, cache_policy=NO_CACHE)
@holds_zone
def process_batch(path: str, config_path: str | None = None) -> BatchRecord:
    """Process one waiting batch end to end and return its record (as `driftloop run --json`).

    `path` is a file directly in the landing folder (a local path, or an fsspec URL when
    `[ingest] zone` is one); anything else is refused before it is read. The task run is named
    after the batch; the monitor run, not the task run, carries the model's tags.
    """
    ctx = context_for(config_path)
    # A tagged task run asks the server for its tags' concurrency slots first (flows/monitor.py
    # says what that cost): the stages run untagged even when a caller tags this task.
    with TagsContext(current_tags=set()):
        record, link = _process(ctx, path)
    _announce(ctx.cfg.model.name, record, link)
    return record


def _process(ctx: RunContext, path: str) -> tuple[BatchRecord, str]:
    """The batch's steps, from admission to its record (and its MLflow run's link)."""
    cfg, ledger = ctx.cfg, ctx.ledger
    adm = lean(ingest_task)(path, cfg, ledger)
    if adm.status != Status.ACCEPTED or adm.frame is None:
        return _ended(adm), ""
    champion = io(load_champion_task, cfg)(ctx)
    adm = check_labels(adm, champion, cfg, ledger)
    if adm.status != Status.ACCEPTED or adm.frame is None:
        return _ended(adm), ""
    seen = lean(predict_task)(champion, adm.frame, adm.has_labels)
    report = lean(drift_task)(champion, adm.frame, seen, ctx)
    step = ledger.count(Status.PROCESSED) + 1  # this batch's place in the model's sequence
    record = _drift_record(adm, champion, report, seen)
    trigger = _trigger(ctx, report, adm.has_labels)
    _act(ctx, record, trigger, adm, champion, seen, report)
    link = _finish(ctx, record, adm, champion, report, seen, step)
    get_run_logger().info(
        "%s: %s, action %s, champion v%s",
        adm.path.name,
        "drift" if report.drift else "no drift",
        record.action,
        record.champion_version,
    )
    return record, link
