"""The per-batch flow: ingest, drift test, and fine-tune and gate when the drift calls for it."""

from __future__ import annotations

from prefect import flow, get_run_logger
from prefect.context import TagsContext
from prefect.runtime import flow_run

from driftloop import drift
from driftloop.core.records import Action, BatchRecord, Status
from driftloop.flows.challenge import challenge_batch, request_for
from driftloop.flows.context import RunContext, context_for
from driftloop.flows.events import DRIFT_EVENT, emit_drift, emit_outcome
from driftloop.flows.late_labels import keep_unlabelled
from driftloop.flows.lean import lean
from driftloop.flows.publish import (
    action_taken,
    batch_run_name,
    publish_task,
    report_files,
    tag_outcome,
)
from driftloop.flows.slots import retrain_slot, slot_options
from driftloop.flows.tasks import (
    complete_task,
    drift_task,
    ingest_task,
    io,
    labels_task,
    load_champion_task,
    log_outcome_task,
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
    )


def _drift_record(
    adm: Admission, champion: Champion, report: drift.DriftReport, seen: Predicted, run_id: str
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
        mlflow_run_id=run_id,
        flow_run_id=str(flow_run.get_id() or ""),
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
    link: str,
    step: int,
) -> None:
    """Replay, log the outcome, publish the report, move the batch to processed/."""
    if adm.has_labels and adm.frame is not None:
        target = ctx.options.spec.target
        lean(replay_task)(ctx.options.replay, target, champion, adm.frame, adm.sha256)
    after, taken = record.score_after, action_taken(record)
    io(log_outcome_task, ctx.cfg)(
        ctx.client,
        record.mlflow_run_id or "",
        {} if after is None else {"accuracy_after": after},
        {"driftloop.action": record.action.value},
        step,
        report_files(report, adm.path.name, taken),  # the report files again, with the action
    )
    lean(publish_task)(ctx.cfg.model.name, report, adm, record.mlflow_run_id or "", link, record)
    keep_unlabelled(ctx, adm)  # its late labels are joined by a later run
    lean(complete_task)(adm, ctx.cfg, ctx.ledger, record)


def _announce(model: str, record: BatchRecord, link: str) -> None:
    """The batch's events (after it reached its end place: a retrain run finds it there)."""
    logger = get_run_logger()
    if record.drift:  # the retrain deployment acts only on a drift event that asks it to
        retrain = record.action == Action.DRIFT_EVENT
        logger.info("%s event %s", DRIFT_EVENT, emit_drift(model, record, link, retrain))
    for event_id in emit_outcome(model, record, link):
        logger.info("%s: event %s (%s)", record.batch, event_id, record.action)


@flow(name="process-batch", flow_run_name=batch_run_name)
@holds_zone
def process_batch(path: str, config_path: str | None = None) -> BatchRecord:
    """Process one waiting batch end to end and return its record (as `driftloop run --json`).

    `path` is a file directly in the landing folder (a local path, or an fsspec URL when
    `[ingest] zone` is one); anything else is refused before it is read. The flow run is named
    after the batch and tagged with its model, verdict and action.
    """
    ctx = context_for(config_path)
    # The run keeps its tags (model, verdict, action); its tasks get none: a tagged task run
    # asks the server for its tags' concurrency slots first, one round trip per task.
    with TagsContext(current_tags=set()):
        record, link = _process(ctx, path)
    tag_outcome(record)
    _announce(ctx.cfg.model.name, record, link)
    return record


def _process(ctx: RunContext, path: str) -> tuple[BatchRecord, str]:
    """The batch's steps, from admission to its record (and its MLflow run's link)."""
    cfg, ledger = ctx.cfg, ctx.ledger
    adm = lean(ingest_task)(path, cfg, ledger)
    if adm.status != Status.ACCEPTED or adm.frame is None:
        return _ended(adm), ""
    champion = io(load_champion_task, cfg)(ctx)
    adm = lean(labels_task)(adm, champion, cfg, ledger)
    if adm.status != Status.ACCEPTED or adm.frame is None:
        return _ended(adm), ""
    seen = lean(predict_task)(champion, adm.frame, adm.has_labels)
    report = lean(drift_task)(champion, adm.frame, seen, ctx)
    step = ledger.count(Status.PROCESSED) + 1  # this batch's place in the model's sequence
    run_id, link = io(track_task, cfg)(ctx, adm, champion, report, seen.score, step, seen.estimate)
    record = _drift_record(adm, champion, report, seen, run_id)
    trigger = _trigger(ctx, report, adm.has_labels)
    _act(ctx, record, trigger, adm, champion, seen)
    _finish(ctx, record, adm, champion, report, link, step)
    get_run_logger().info(
        "%s: %s, action %s, champion v%s",
        adm.path.name,
        "drift" if report.drift else "no drift",
        record.action,
        record.champion_version,
    )
    return record, link
