"""The per-batch flow: ingest, drift test, and fine-tune and gate when the drift calls for it."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run

from driftloop.core.config import load_config
from driftloop.flows.events import DRIFT_EVENT, emit_drift
from driftloop.flows.lean import lean
from driftloop.flows.publish import publish_task
from driftloop.flows.slots import retrain_slot, slot_options
from driftloop.flows.tasks import (
    challenge_task,
    complete_task,
    drift_task,
    ingest_task,
    io,
    labels_task,
    load_champion_task,
    log_outcome_task,
    profile_task,
    replay_task,
    score_task,
    track_task,
)
from driftloop.ingest import open_ledger
from driftloop.ingest.admit import ACCEPTED
from driftloop.models.evaluate import metric_name
from driftloop.models.trigger import retrain_trigger


def _base_record(
    name: str, sha256: str, status: str, reason: str, rows: int, attempts: int = 0
) -> dict[str, Any]:
    return {
        "batch": name,
        "sha256": sha256,
        "rows": rows,
        "status": status,
        "reason": reason,
        "drift": False,
        "drifted_features": [],
        "p_values": {},
        "action": status,
        "champion_version": None,
        "accuracy_before": None,
        "accuracy_after": None,
        "accuracy_batch": None,
        "challenger_version": None,
        "mlflow_run_id": None,
        "flow_run_id": str(flow_run.get_id() or ""),
        "attempts": attempts,
    }


@flow(name="process-batch")
def process_batch(path: str, config_path: str | None = None) -> dict[str, Any]:
    """Process one waiting batch end to end and return its record (as `driftloop run --json`).

    `path` is a file directly in the landing folder (a local path, or an fsspec URL when
    `[ingest] zone` is one); anything else is refused before it is read.
    """
    cfg = load_config(config_path)
    logger = get_run_logger()
    ledger = open_ledger(cfg)
    adm = lean(ingest_task)(path, cfg, ledger)
    if adm.status != ACCEPTED or adm.frame is None:
        return _base_record(adm.path.name, adm.sha256, adm.status, adm.reason, 0, adm.attempts)
    client, champion = io(load_champion_task, cfg)(cfg)
    adm = lean(labels_task)(adm, champion, cfg, ledger)
    if adm.status != ACCEPTED or adm.frame is None:
        return _base_record(adm.path.name, adm.sha256, adm.status, adm.reason, 0, adm.attempts)
    frame = adm.frame
    before = lean(score_task)(champion, frame) if adm.has_labels else None
    report = lean(drift_task)(champion, frame, cfg, adm.has_labels)
    run_id, run_link = io(track_task, cfg)(adm, champion, report, before)
    record = _base_record(adm.path.name, adm.sha256, "processed", "", adm.rows, adm.attempts)
    record.update(
        drift=report.drift,
        drifted_features=report.drifted_features,
        p_values=report.p_values,
        champion_version=champion.version,
        accuracy_before=before,
        accuracy_after=before,
        accuracy_batch=before,
        mlflow_run_id=run_id,
        metric=metric_name(champion.meta),
        action="none",
    )
    recent = [  # what was done with the batches before this one, for the cool-down
        (e.batch, str(e.result.get("action", "")))
        for e in ledger.recent(cfg.drift.retrain_cooldown if report.drift else 0, "processed")
    ]
    trigger = retrain_trigger(
        report, adm.has_labels, cfg.drift.retrain_on, cfg.drift.retrain_cooldown, recent
    )
    wanted = trigger.retrain
    event = report.drift and cfg.prefect.retrain == "event"
    if report.drift and not wanted:
        record.update(action=trigger.action, reason=trigger.reason)
    elif wanted and event:
        record["action"] = "drift-event"
        record["reason"] = f"drift found; {DRIFT_EVENT} sent for the retrain deployment"
    elif wanted:
        with retrain_slot(*slot_options(cfg)):
            outcome = lean(challenge_task)(
                champion,
                frame,
                lean(profile_task)(frame, cfg),
                cfg,
                client,
                run_id,
                {"batch_sha256": adm.sha256, "batch": adm.path.name, "trigger": "drift"},
            )
        d = outcome.decision
        record.update(
            action=outcome.action,
            reason=d.reason,
            challenger_version=outcome.challenger_version,
            champion_version=outcome.champion_version,
            accuracy_before=d.champion_accuracy,
            accuracy_after=d.challenger_accuracy if d.promote else d.champion_accuracy,
        )
    if adm.has_labels:
        lean(replay_task)(cfg, champion, frame, adm.sha256)
    after = record["accuracy_after"]
    io(log_outcome_task, cfg)(
        run_id,
        {} if after is None else {"accuracy_after": after},
        {"driftloop.action": record["action"]},
    )
    lean(publish_task)(report, adm, run_id, run_link)
    lean(complete_task)(adm, cfg, ledger, record)
    if event:  # after complete: the retrain run finds the batch processed
        event_id = emit_drift(cfg.model.name, record, run_link, wanted)
        logger.info("%s event %s", DRIFT_EVENT, event_id)
    logger.info(
        "%s: %s, action %s, champion v%s",
        adm.path.name,
        "drift" if report.drift else "no drift",
        record["action"],
        record["champion_version"],
    )
    return record
