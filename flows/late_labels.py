"""The late-label step of `driftloop run`: admit label files, join them, test and challenge.

After the batches of a run: label files waiting in the zone's ``labels/`` folder are admitted
(ingest/labels_admit.py), then every processed unlabelled batch of the model whose kept rows
(ingest/labels_keep.py) gained labels gets a `LabelRecord`. The first time a batch's labelled
share reaches `[labels] min_fraction`, the champion's errors on its labelled rows are
performance-tested; if they drifted, the labelled rows take the challenge path of drifted
labelled batches (flows/challenge.py: recall, fine-tune with replay, gate, promotion). A batch
is tested once; labels that come after are recorded only. Labels of classes the champion does
not know are not tested (`unknown-classes`): the join is tried again at every run, and tested
once a champion knows them (bootstrapped on data with those classes).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from prefect import get_run_logger

from driftloop.core.errors import DriftloopError
from driftloop.core.records import BatchRecord, LabelAction, LabelRecord, Status
from driftloop.flows.challenge import challenge_batch, request_for
from driftloop.flows.context import RunContext
from driftloop.flows.lean import lean
from driftloop.flows.slots import retrain_slot, slot_options
from driftloop.flows.tasks import io, load_champion_task, predict_task, replay_task
from driftloop.ingest import Admission
from driftloop.ingest.labels_admit import LabelSpec, admit_waiting_labels
from driftloop.ingest.labels_join import Joined
from driftloop.ingest.labels_keep import join_kept, keep_rows
from driftloop.ingest.labels_store import REFUSED_ROWS, KeptBatch, LabelStore
from driftloop.ingest.model_checks import unknown_labels
from driftloop.models.champion import Champion
from driftloop.models.performance import performance_test
from driftloop.models.tracking import start_batch_run

TRIGGER = "late-labels"


def keep_unlabelled(ctx: RunContext, adm: Admission) -> None:
    """Keep an unlabelled batch's rows (ids and features) for its late labels."""
    cfg = ctx.cfg
    if not cfg.model.id_column or adm.has_labels or adm.frame is None:
        return
    store, batch = LabelStore(cfg.ledger_url), (adm.path.name, adm.sha256, adm.rows)
    keep_rows(store, cfg.model.name, cfg.late_labels_dir, batch, adm.frame)


def admit_label_files(ctx: RunContext, store: LabelStore) -> None:
    """Finish interrupted label-file moves, then admit every label file waiting."""
    cfg, logger = ctx.cfg, get_run_logger()
    spec = LabelSpec(cfg.model.name, cfg.model.id_column, cfg.model.target, cfg.ingest.block_mib)
    for done in admit_waiting_labels(ctx.zone, store, spec):
        logger.info(
            "%s: label file %s, %d row(s) %s", done.file, done.status, done.rows, done.reason
        )


def join_late_labels(ctx: RunContext) -> list[LabelRecord]:
    """The run's late-label step: one record per batch that gained labels."""
    cfg = ctx.cfg
    if not cfg.model.id_column:
        return []
    store = LabelStore(cfg.ledger_url)
    admit_label_files(ctx, store)
    records = []
    for batch in store.kept_batches(cfg.model.name):
        entry = ctx.ledger.find(batch.sha256, status=Status.PROCESSED)
        if entry is None:  # kept, then not recorded (the file changed): it is read again
            continue
        try:
            record = _join_one(ctx, store, batch, entry.result)
        except DriftloopError as err:  # one batch's join must not stop the others
            get_run_logger().error("%s: late labels not joined: %s", batch.batch, err)
            continue
        if record is not None:
            records.append(record)
    return records


def _estimate(result: dict[str, Any]) -> float | None:
    """The batch's label-free score estimate, from its stored record (None if there is none)."""
    return getattr(BatchRecord.from_dict(result), "estimated_score", None)


def _record(
    store: LabelStore, batch: KeptBatch, joined: Joined, result: dict[str, Any]
) -> LabelRecord:
    """The join's record before anything is done about it."""
    share = joined.labelled / batch.kept if batch.kept else 0.0
    return LabelRecord(
        batch.batch,
        batch.sha256,
        LabelAction.WAITING,
        label_files=store.file_names(joined.files),
        rows=batch.rows,
        kept=batch.kept,
        labels_joined=joined.labelled,
        new_labels=joined.labelled - batch.joined,
        labelled_share=round(share, 6),
        duplicates=joined.duplicates,
        conflicts=joined.conflicts,
        conflict_ids=joined.conflict_ids,
        estimated_score=_estimate(result),
    )


def _join_one(
    ctx: RunContext, store: LabelStore, batch: KeptBatch, result: dict[str, Any]
) -> LabelRecord | None:
    """Join one kept batch to its labels; None when no label row came since the last join."""
    cfg, logger = ctx.cfg, get_run_logger()
    joined = join_kept(store, cfg.model.name, batch, cfg.model.id_column, cfg.model.target)
    if joined.label_rows == batch.label_rows:
        return None
    record = _record(store, batch, joined, result)
    if joined.conflicts:
        logger.warning(
            "%s: %d id(s) given conflicting labels (e.g. %s); the label that arrived last is used",
            batch.batch,
            joined.conflicts,
            ", ".join(joined.conflict_ids),
        )
    if batch.challenged:
        record.action = LabelAction.RECORDED
        record.reason = "tested on its labels before; the new labels are recorded only"
    elif record.labelled_share < cfg.labels.min_fraction:
        record.reason = f"labelled share below [labels] min_fraction = {cfg.labels.min_fraction}"
    else:
        _test_and_challenge(ctx, record, joined.frame)
    if record.action == LabelAction.UNKNOWN_CLASSES:
        return _refused(ctx, store, batch, joined, record)
    tested = batch.challenged or record.action != LabelAction.WAITING
    now = replace(batch, joined=joined.labelled, challenged=tested, label_rows=joined.label_rows)
    store.record_join(cfg.model.name, now, json.dumps(record.to_dict()))
    logger.info("%s: %d label(s) joined, %s", batch.batch, joined.labelled, record.action)
    return record


def _refused(
    ctx: RunContext, store: LabelStore, batch: KeptBatch, joined: Joined, record: LabelRecord
) -> LabelRecord | None:
    """Keep a join refused for unknown classes to be tried again; None for a repeat refusal."""
    model, logger = ctx.cfg.model.name, get_run_logger()
    again = batch.label_rows == REFUSED_ROWS and batch.joined == joined.labelled
    if again and store.refused_by(model).get(batch.sha256) == record.champion_version:
        logger.info("%s: still not tested: %s", batch.batch, record.reason)
        return None
    now = replace(batch, joined=joined.labelled, label_rows=REFUSED_ROWS)
    store.record_join(model, now, json.dumps(record.to_dict()))
    logger.warning("%s: %s", batch.batch, record.reason)
    return record


def _unknown_classes(
    ctx: RunContext, champion: Champion, record: LabelRecord, frame: pd.DataFrame
) -> bool:
    """Mark the record when the labels hold classes the champion does not know."""
    if "classes" not in champion.meta:  # a regressor has no classes
        return False
    target, classes = ctx.cfg.model.target, champion.meta["classes"]
    why = unknown_labels(frame, "late labels", target, classes, champion.version)
    if why:
        record.action, record.champion_version = LabelAction.UNKNOWN_CLASSES, champion.version
        record.reason = (
            why
            + " The labels are kept: once a champion knows these classes, the next run tests them."
        )
    return bool(why)


def _test_and_challenge(ctx: RunContext, record: LabelRecord, frame: pd.DataFrame) -> None:
    """Performance-test the champion on the labelled rows; challenge it if its errors drifted."""
    cfg = ctx.cfg
    champion = io(load_champion_task, cfg)(ctx)
    if _unknown_classes(ctx, champion, record, frame):
        return
    seen = lean(predict_task)(champion, frame, True)
    assert seen.errors is not None  # labelled rows always have errors
    test = performance_test(champion, seen.errors)
    record.metric, record.score_batch = seen.metric, seen.score
    record.p_value, record.champion_version = test.p_value, champion.version
    record.score_before = record.score_after = seen.score
    if test.p_value >= cfg.drift.alpha:
        record.action = LabelAction.NO_LOSS
        record.reason = (
            f"the champion's {seen.metric} on the labelled rows did not drift "
            f"(p = {test.p_value:.3g} >= [drift] alpha = {cfg.drift.alpha})"
        )
    else:
        _challenge(ctx, champion, record, frame, seen.errors)
    lean(replay_task)(ctx.options.replay, cfg.model.target, champion, frame, record.batch_sha256)


def _challenge(
    ctx: RunContext,
    champion: Champion,
    record: LabelRecord,
    frame: pd.DataFrame,
    errors: np.ndarray,
) -> None:
    """The challenge path of drifted labelled batches, on the batch's labelled rows."""
    params = {"batch": record.batch, "labels": record.labels_joined, "trigger": TRIGGER}
    tags = {"driftloop.kind": TRIGGER, "driftloop.batch_sha256": record.batch_sha256}
    experiment = ctx.options.store.experiment
    run_id = start_batch_run(ctx.client, experiment, f"labels:{record.batch}", params, tags)
    request = request_for(record.batch, record.batch_sha256, run_id, TRIGGER)
    with retrain_slot(*slot_options(ctx.cfg)):
        done = challenge_batch(ctx, champion, frame, request, errors)
    record.action, record.reason = LabelAction(done.action.value), done.reason
    record.challenger_version, record.champion_version = (
        done.challenger_version,
        done.champion_version,
    )
    record.score_before, record.score_after = done.score_before, done.score_after
