"""Challenger against champion: adapt, score both on the same frozen data, register, gate, promote.

The new batch is split into fitting rows and a holdout; the champion's replay buffer into
replayed rows and a past holdout (the forgetting guard). The challenger is the champion
fine-tuned on fitting rows plus replay, or, after `[gate] escalate_after` rejections in a row
(or on request), a model trained from scratch on replay plus the new rows. It is registered
either way, checked for servability through mlflow.pyfunc, and becomes champion only if the
gate passes. A request with `recall_first` (a drift-triggered one) first tries the earlier
champions on the holdout (`models/recall.py`): one that fits the batch again is promoted and
nothing is trained.

After a concept change (the champion's realized accuracy on the batch is below the band of
its label-free estimate, `models/concept.py`; without a stored calibration: its errors on the
new rows changed significantly) the buffer's labels follow the old rule: only
`concept_fraction` of replay is mixed in, the forgetting guard is skipped, and a promoted
challenger restarts the live buffer from the batch. A covariate shift (realized within the
band) keeps the guard on.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.tracking import MlflowClient

from driftloop import drift
from driftloop.core.errors import ChampionMoved
from driftloop.core.records import Action
from driftloop.models.calibration import calibration_of, stored_calibration
from driftloop.models.champion import Champion
from driftloop.models.concept import ConceptVerdict, concept_verdict
from driftloop.models.data import split_frame, split_positions
from driftloop.models.evaluate import errors, errors_of, metric_name, summary
from driftloop.models.finetune import finetune
from driftloop.models.gate import GateDecision, decision_metrics, describe, judge
from driftloop.models.gate_evaluation import GateEvaluation, evaluate_gate, holdout_frame
from driftloop.models.history import count_rejection, rejections
from driftloop.models.options import ModelOptions
from driftloop.models.performance import performance_test
from driftloop.models.recall import Recalled, recall
from driftloop.models.reference import profile_with_predictions
from driftloop.models.registry import (
    CHAMPION,
    VersionInputs,
    alias_version,
    log_version,
    logged_model_id,
    promote,
    smoke_test,
)
from driftloop.models.replay import ReplayBuffer, replay_sample
from driftloop.models.replay_store import load_live, restart_live
from driftloop.models.serving import is_classifier, predict_outputs
from driftloop.models.tracking import log_dir_to_run, log_to_run
from driftloop.models.train import TrainedModel, train_from_scratch
from driftloop.models.version_record import (
    TAG,
    GateRecord,
    Lineage,
    read_record,
    where_recorded,
    with_gate,
    write_record,
)

log = logging.getLogger(__name__)

MIN_SUPPORT_ROWS = 30
"""Fewest labelled rows inside the champion's reference support to call a concept change."""


@dataclass(frozen=True)
class ChallengeRequest:
    """What to challenge the champion with, and how: the batch, its run, the trigger."""

    batch: str
    batch_sha256: str
    run_id: str
    trigger: str = "manual"
    from_scratch: bool = False
    recall_first: bool = False

    @property
    def move_trigger(self) -> str:
        """How an alias move made by this request is recorded: `trigger:batch`."""
        return f"{self.trigger}:{self.batch}"


@dataclass(frozen=True)
class ChallengeOutcome:
    """The gate's decision, how the challenger was made, its version, and the champion now."""

    decision: GateDecision
    challenger_version: str
    champion_version: str
    kind: str
    concept_changed: bool

    @property
    def action(self) -> Action:
        """What the batch record says: recalled, promoted or rejected."""
        if self.kind == "recall":
            return Action.RECALLED
        return Action.PROMOTED if self.decision.promote else Action.REJECTED


@dataclass(frozen=True)
class _Rows:
    """The frozen rows of one challenge: new and past, to fit on and to judge on."""

    fit: pd.DataFrame
    holdout: pd.DataFrame
    champion_errors: np.ndarray
    concept: ConceptVerdict
    buffer: ReplayBuffer
    past_fit: pd.DataFrame
    past_holdout: pd.DataFrame

    @property
    def changed(self) -> bool:
        """True after a concept change (see `models/concept.py`)."""
        return self.concept.changed


def concept_changed(champion: Champion, holdout_errors: np.ndarray, alpha: float) -> bool:
    """True when the champion's errors on new labelled rows differ significantly from before.

    The fallback of `champion_concept` for a version without a calibration. Worse: its rule
    no longer holds. Better: the data moved on as well (a drift still settling).
    """
    return performance_test(champion, holdout_errors).p_value < alpha


def champion_concept(
    champion: Champion,
    frame: pd.DataFrame,
    outputs: np.ndarray,
    batch_errors: np.ndarray,
    holdout_errors: np.ndarray,
    alpha: float,
) -> ConceptVerdict:
    """The concept verdict on labelled rows: realized accuracy against the label-free estimate,
    on the rows inside the reference's support (`models/concept.py`).

    `outputs` and `batch_errors`: the champion's on every row of `frame`; `holdout_errors`: on
    the holdout, for the performance test of a version without a calibration.
    """
    calibration = stored_calibration(champion.meta)
    if calibration is None:
        fallback = concept_changed(champion, holdout_errors, alpha)
        return concept_verdict(None, None, float(1.0 - np.mean(batch_errors)), fallback)
    inside = drift.in_support(champion.reference, frame)
    n = int(inside.sum())
    if n < MIN_SUPPORT_ROWS:
        return ConceptVerdict(
            False,
            f"no concept change: {n} of {len(frame)} rows inside the reference's support, too "
            f"few (< {MIN_SUPPORT_ROWS}) to contradict the old rule",
            float(1.0 - np.mean(batch_errors)),
        )
    estimate = drift.estimate_accuracy(calibration, outputs[inside], 1.0 - alpha)
    realized = float(1.0 - np.mean(batch_errors[inside]))
    verdict = concept_verdict(estimate.value, (estimate.low, estimate.high), realized)
    return replace(verdict, reason=f"{verdict.reason} on {n} of {len(frame)} rows in support")


def _split_past(frame: pd.DataFrame, rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = min(rows, len(frame) // 3)
    if n < 1:
        return frame, frame.iloc[0:0]
    return split_frame(frame, n / len(frame), seed)


def _rows(
    champion: Champion, frame: pd.DataFrame, opts: ModelOptions, known: np.ndarray | None
) -> _Rows:
    """Split the batch and the live buffer; test the champion's errors for a concept change.

    `known`: the champion's per-row errors on the whole batch, if already computed.
    """
    seed = opts.train.seed
    rest, hold = split_positions(len(frame), opts.gate.holdout_fraction, seed)
    fit_part = frame.iloc[rest].reset_index(drop=True)
    holdout = frame.iloc[hold].reset_index(drop=True)
    outputs = predict_outputs(champion.model, frame, champion.meta)
    every = errors_of(outputs, frame, champion.meta) if known is None else known
    buffer, _ = load_live(opts.replay.root, champion)
    past_fit, past_holdout = _split_past(buffer.frame, opts.gate.past_holdout_rows, seed)
    concept = champion_concept(champion, frame, outputs, every, every[hold], opts.gate.alpha)
    log.info("%s", concept.reason)
    return _Rows(fit_part, holdout, every[hold], concept, buffer, past_fit, past_holdout)


def _recalled(
    found: Recalled, client: MlflowClient, run_id: str, changed: bool
) -> ChallengeOutcome:
    """The outcome of a recall: a past champion serves again, nothing was trained."""
    version = found.version.version
    log_to_run(
        client,
        run_id,
        metrics=decision_metrics(found.decision),
        tags={
            TAG + "gate": "recalled",
            TAG + "challenger_version": version,
            TAG + "kind": "recall",
        },
    )
    count_rejection(client, found.version.name, False)
    return ChallengeOutcome(found.decision, version, version, "recall", changed)


def _train(
    champion: Champion,
    rows: _Rows,
    opts: ModelOptions,
    scratch: bool,
    req: ChallengeRequest,
    logs: Path,
) -> TrainedModel:
    """The challenger: the champion fine-tuned on new plus replayed rows, or trained anew."""
    rp = opts.replay
    fraction = rp.concept_fraction if rows.changed else rp.fraction
    if scratch:
        # After a concept change the buffer's labels follow the old rule: only a share.
        replay = rows.past_fit
        if rows.changed:
            replay = replay_sample(rows.past_fit, len(rows.fit), fraction, opts.train.seed)
        both = pd.concat([replay, rows.fit], ignore_index=True)
        return train_from_scratch(both, opts.spec, opts.train)
    name, sha = opts.spec.name, (req.batch_sha256 or "manual")[:12]
    checkpoint = opts.store.checkpoints / f"{name}-v{champion.version}-{sha}"
    log_dir = logs / "tensorboard" if opts.finetune.tensorboard else None
    return finetune(
        champion.fresh_model(),
        champion.meta,
        rows.fit,
        rows.past_fit,
        opts.finetune,
        fraction,
        checkpoint,
        log_dir,
    )


def _judge(
    champion: Champion, trained: TrainedModel, rows: _Rows, opts: ModelOptions
) -> tuple[GateDecision, np.ndarray]:
    """Both models on the new holdout and the past holdout; the gate's decision."""
    metric = metric_name(champion.meta)
    chall_new = errors(trained.model, rows.holdout, trained.meta)
    past: dict[str, Any] = {}
    if len(rows.past_holdout):
        past = {
            "champion_past": summary(
                errors(champion.model, rows.past_holdout, champion.meta), metric
            ),
            "challenger_past": summary(
                errors(trained.model, rows.past_holdout, trained.meta), metric
            ),
            "past_rows": len(rows.past_holdout),
        }
    decision = judge(
        summary(rows.champion_errors, metric),
        summary(chall_new, metric),
        len(rows.holdout),
        opts.gate.min_improvement,
        metric=metric,
        max_forgetting=opts.gate.max_forgetting,
        concept_changed=rows.changed,
        **past,
    )
    return decision, chall_new


def _register(
    client: MlflowClient,
    champion: Champion,
    trained: TrainedModel,
    rows: _Rows,
    frame: pd.DataFrame,
    profile: dict[str, Any],
    opts: ModelOptions,
    req: ChallengeRequest,
    kind: str,
    escalated: bool,
    chall_errors: np.ndarray,
) -> str:
    """Register the challenger with the buffer it was made with; return its version."""
    spec, rp = opts.spec, opts.replay
    kept = ReplayBuffer(rows.buffer.frame.iloc[0:0]) if rows.changed else rows.buffer
    new_buffer = kept.add(
        rows.fit, spec.target, rp.rows, opts.train.seed, is_classifier(trained.meta)
    )
    lineage = Lineage(
        kind=kind,
        batch=req.batch,
        batch_sha256=req.batch_sha256,
        trigger=req.trigger,
        parent_version=champion.version,
        escalated=escalated,
        concept_changed=rows.changed,
        concept_reason=rows.concept.reason,
    )
    reference = profile_with_predictions(
        profile, trained, frame, opts.profile.max_values, opts.train.seed
    )
    calibration = calibration_of(trained.model, rows.holdout, trained.meta)
    made = VersionInputs(lineage, new_buffer, chall_errors, rows.fit, calibration=calibration)
    mv, _ = log_version(client, spec.name, trained, reference, made, req.run_id)
    return str(mv.version)


def _in_mlflow(
    client: MlflowClient,
    champion: Champion,
    trained: TrainedModel,
    rows: _Rows,
    opts: ModelOptions,
    run_id: str,
    version: str,
) -> GateEvaluation:
    """Both models on the holdout as MLflow evaluations, validated against each other."""
    hold = rows.holdout
    ours = holdout_frame(predict_outputs(trained.model, hold, trained.meta), hold, trained.meta)
    theirs = holdout_frame(
        predict_outputs(champion.model, hold, champion.meta), hold, champion.meta
    )
    model_id = logged_model_id(client.get_model_version(opts.spec.name, version))
    classifier = is_classifier(trained.meta)
    return evaluate_gate(
        client, run_id, ours, theirs, classifier, opts.gate.min_improvement, model_id
    )


def _servable(
    client: MlflowClient, name: str, version: str, sample: pd.DataFrame, d: GateDecision
) -> GateDecision:
    """The decision after loading the passed version through mlflow.pyfunc and predicting."""
    problem = smoke_test(client, name, version, sample)
    checks = {**d.checks, "servability": "fail" if problem else "pass"}
    reason = d.reason + (f"; {problem}" if problem else "")
    return replace(d, promote=not problem, reason=reason, checks=checks)


def _promote(
    client: MlflowClient,
    name: str,
    version: str,
    expected: str,
    req: ChallengeRequest,
    d: GateDecision,
) -> tuple[GateDecision, bool]:
    """Move the aliases (compare-and-set on the champion); the decision, and whether it moved."""
    try:
        promote(client, name, version, req.move_trigger, d.reason, expected=expected)
    except ChampionMoved as err:
        checks = {**d.checks, "champion_unchanged": "fail"}
        return replace(d, promote=False, reason=f"{d.reason}; {err}", checks=checks), True
    return d, False


def _made(kind: str, parent: str, batch: str) -> str:
    """How a challenger was made, in words."""
    if kind == "scratch":
        return f"Trained from scratch on replayed rows and {batch} (champion was version {parent})"
    return f"Fine-tuned from version {parent} on {batch} plus replayed rows"


def _record(
    client: MlflowClient,
    version: str,
    kind: str,
    d: GateDecision,
    trained: TrainedModel,
    req: ChallengeRequest,
    moved: bool,
    parent: str,
    opts: ModelOptions,
    checked: GateEvaluation,
) -> None:
    """The decision in the version's record, tag and description, and as run metrics."""
    name, thresholds = opts.spec.name, opts.gate
    verdict = "promoted" if d.promote else "rejected"
    mv = client.get_model_version(name, version)
    validation = "passed" if checked.passed else f"failed: {checked.message}"
    gate = GateRecord.of(d, thresholds.min_improvement, thresholds.max_forgetting, validation)
    write_record(client, with_gate(read_record(client, mv), gate))
    made = _made(kind, parent, req.batch)
    text = f"{describe(d, made)[:4500]} {where_recorded(version)}"
    client.update_model_version(name, version, description=text)
    run_id = req.run_id
    log_to_run(
        client,
        run_id,
        metrics={
            **decision_metrics(d),
            "challenger_epochs": trained.epochs_run,
            **{f"challenger_{k}": v for k, v in trained.metrics.items()},
        },
        tags={TAG + "gate": verdict, TAG + "challenger_version": version, TAG + "kind": kind},
    )
    if not moved:  # a lost compare-and-set says nothing about the challenger's quality
        count_rejection(client, name, not d.promote)


def challenge(
    champion: Champion,
    frame: pd.DataFrame,
    profile: dict[str, Any],
    opts: ModelOptions,
    client: MlflowClient,
    req: ChallengeRequest,
    champion_errors: np.ndarray | None = None,
) -> ChallengeOutcome:
    """Make a challenger from a labelled batch and promote it if it passes the gate.

    `champion_errors`: the champion's per-row errors on `frame`, when already computed.
    """
    name = opts.spec.name
    rows = _rows(champion, frame, opts, champion_errors)
    if req.recall_first and not req.from_scratch:
        champ = summary(rows.champion_errors, metric_name(champion.meta))
        found = recall(champion, rows.holdout, champ, opts, client, req.move_trigger)
        if found is not None:
            return _recalled(found, client, req.run_id, rows.changed)
    escalated = not req.from_scratch and rejections(client, name) >= opts.gate.escalate_after
    kind = "scratch" if req.from_scratch or escalated else "finetune"
    with tempfile.TemporaryDirectory() as logs:
        trained = _train(champion, rows, opts, kind == "scratch", req, Path(logs))
        if any(Path(logs).iterdir()):
            log_dir_to_run(client, req.run_id, Path(logs))
    decision, chall_errors = _judge(champion, trained, rows, opts)
    version = _register(
        client, champion, trained, rows, frame, profile, opts, req, kind, escalated, chall_errors
    )
    checked = _in_mlflow(client, champion, trained, rows, opts, req.run_id, version)
    if decision.promote:
        decision = _servable(
            client, name, version, rows.holdout[opts.spec.features].head(20), decision
        )
    moved = False
    if decision.promote:
        decision, moved = _promote(client, name, version, champion.version, req, decision)
    _record(client, version, kind, decision, trained, req, moved, champion.version, opts, checked)
    if decision.promote and rows.changed:
        restart_live(opts.replay, opts.spec.target, champion, frame, req.batch_sha256)
    new_champion = version if decision.promote else champion.version
    if moved:  # report the champion that is serving now, not the one this run started from
        new_champion = alias_version(client, name, CHAMPION) or champion.version
    log.info(
        "challenger v%s (%s) %s: %s",
        version,
        kind,
        "promoted" if decision.promote else "rejected",
        decision.reason,
    )
    return ChallengeOutcome(decision, version, new_champion, kind, rows.changed)
