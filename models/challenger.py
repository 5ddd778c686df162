"""Challenger against champion: adapt, score both on the same frozen data, register, gate, promote.

The new batch is split into fitting rows and a holdout; the champion's replay buffer into
replayed rows and a past holdout (the forgetting guard). The challenger is the champion
fine-tuned on fitting rows plus replay, or, after `[gate] escalate_after` rejections in a row
(or on request), a model trained from scratch on replay plus the new rows. It is registered
either way, checked for servability through mlflow.pyfunc, and becomes champion only if the
gate passes. A drift-triggered challenge first tries the earlier champions on the holdout
(`models/recall.py`): one that fits the batch again is promoted and nothing is trained.

After a concept change (the champion's errors on the new rows changed significantly) the
buffer's labels follow the old rule: only `[finetune] concept_replay_fraction` of replay is
mixed in, and a promoted challenger restarts the live buffer from the batch.
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

from driftloop.core.config import Config
from driftloop.core.errors import ChampionMoved
from driftloop.models.champion import Champion
from driftloop.models.data import split_frame
from driftloop.models.evaluate import errors, metric_name, summary
from driftloop.models.finetune import finetune
from driftloop.models.gate import GateDecision, decision_metrics, judge
from driftloop.models.history import count_rejection, rejections
from driftloop.models.performance import performance_test
from driftloop.models.recall import RECALL_TRIGGERS, Recalled, recall
from driftloop.models.reference import profile_with_predictions
from driftloop.models.registry import (
    CHAMPION,
    TAG,
    alias_version,
    log_version,
    promote,
    smoke_test,
)
from driftloop.models.replay import ReplayBuffer, replay_sample
from driftloop.models.replay_store import load_live, restart_live
from driftloop.models.serving import is_classifier
from driftloop.models.tracking import log_dir_to_run, log_to_run
from driftloop.models.train import TrainedModel, train_from_scratch

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChallengeOutcome:
    """The gate's decision, how the challenger was made, its version, and the champion now."""

    decision: GateDecision
    challenger_version: str
    champion_version: str
    kind: str
    concept_changed: bool

    @property
    def action(self) -> str:
        """What the batch record says: "recalled", "promoted" or "rejected"."""
        if self.kind == "recall":
            return "recalled"
        return "promoted" if self.decision.promote else "rejected"


def concept_changed(champion: Champion, holdout_errors: np.ndarray, alpha: float) -> bool:
    """True when the champion's errors on new labelled rows differ significantly from before.

    Worse: its rule no longer holds. Better: the data moved on as well (a drift still
    settling), so the rows it was fitted to, and its replay buffer, describe the past.
    """
    return performance_test(champion, holdout_errors).p_value < alpha


def _split_past(frame: pd.DataFrame, rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = min(rows, len(frame) // 3)
    if n < 1:
        return frame, frame.iloc[0:0]
    return split_frame(frame, n / len(frame), seed)


def _recalled(
    found: Recalled, client: MlflowClient, run_id: str, changed: bool
) -> ChallengeOutcome:
    """The outcome of a recall: a past champion serves again, nothing was trained."""
    version = found.version.version
    log_to_run(
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


def challenge(
    champion: Champion,
    frame: pd.DataFrame,
    profile: dict[str, Any],
    cfg: Config,
    client: MlflowClient,
    run_id: str,
    tags: dict[str, str],
    from_scratch: bool = False,
) -> ChallengeOutcome:
    """Make a challenger from a labelled batch and promote it if it passes the gate."""
    name, meta, seed = cfg.model.name, champion.meta, cfg.training.seed
    metric = metric_name(meta)
    fit_part, holdout = split_frame(frame, cfg.finetune.holdout_fraction, seed)
    champ_new = errors(champion.model, holdout, meta)
    changed = concept_changed(champion, champ_new, cfg.drift.alpha)
    trigger = f"{tags.get('trigger', 'manual')}:{tags.get('batch', '')}"
    if not from_scratch and tags.get("trigger") in RECALL_TRIGGERS:
        found = recall(champion, holdout, summary(champ_new, metric), cfg, client, trigger)
        if found is not None:
            return _recalled(found, client, run_id, changed)
    buffer, _ = load_live(cfg, champion)
    past_fit, past_holdout = _split_past(buffer.frame, cfg.gate.past_holdout_rows, seed)
    fraction = cfg.finetune.concept_replay_fraction if changed else cfg.finetune.replay_fraction
    escalated = not from_scratch and rejections(client, name) >= cfg.gate.escalate_after
    with tempfile.TemporaryDirectory() as logs:
        if from_scratch or escalated:
            kind = "scratch"
            # After a concept change the buffer's labels follow the old rule: only a share.
            replay = replay_sample(past_fit, len(fit_part), fraction, seed) if changed else past_fit
            trained: TrainedModel = train_from_scratch(
                pd.concat([replay, fit_part], ignore_index=True), cfg
            )
        else:
            kind = "finetune"
            sha = tags.get("batch_sha256", "manual")[:12]
            checkpoint = cfg.work_dir / "checkpoints" / f"{name}-v{champion.version}-{sha}"
            log_dir = Path(logs) / "tensorboard" if cfg.finetune.tensorboard else None
            trained = finetune(
                champion.fresh_model(),
                meta,
                fit_part,
                past_fit,
                cfg,
                checkpoint,
                log_dir,
                replay_fraction=fraction,
            )
        if any(Path(logs).iterdir()):
            log_dir_to_run(run_id, Path(logs))
    chall_new = errors(trained.model, holdout, trained.meta)
    past: dict[str, Any] = {}
    if len(past_holdout):
        past = {
            "champion_past": summary(errors(champion.model, past_holdout, meta), metric),
            "challenger_past": summary(errors(trained.model, past_holdout, trained.meta), metric),
            "past_rows": len(past_holdout),
        }
    decision = judge(
        summary(champ_new, metric),
        summary(chall_new, metric),
        len(holdout),
        cfg.gate.min_improvement,
        metric=metric,
        max_forgetting=cfg.gate.max_forgetting,
        concept_changed=changed,
        **past,
    )
    kept = ReplayBuffer(buffer.frame.iloc[0:0]) if changed else buffer  # old rule: not kept
    new_buffer = kept.add(
        fit_part, cfg.model.target, cfg.finetune.replay_rows, seed, is_classifier(meta)
    )
    version = str(
        log_version(
            trained,
            profile_with_predictions(profile, trained, frame, cfg),
            new_buffer.frame,
            cfg,
            chall_new,
            tags={
                **tags,
                "kind": kind,
                "parent_version": champion.version,
                "replay_seen": new_buffer.seen_json(),
                "escalated": str(escalated).lower(),
                "concept_changed": str(changed).lower(),
            },
            run_id=run_id,
        ).version
    )
    if decision.promote:
        features = [*cfg.features.numeric, *cfg.features.categorical]
        problem = smoke_test(name, version, holdout[features].head(20))
        checks = {**decision.checks, "servability": "fail" if problem else "pass"}
        decision = replace(
            decision,
            promote=not problem,
            reason=decision.reason + (f"; {problem}" if problem else ""),
            checks=checks,
        )
    moved = False
    if decision.promote:
        try:
            promote(client, name, version, trigger, decision.reason, expected=champion.version)
        except ChampionMoved as err:
            moved = True
            checks = {**decision.checks, "champion_unchanged": "fail"}
            decision = replace(
                decision, promote=False, reason=f"{decision.reason}; {err}", checks=checks
            )
    verdict = "promoted" if decision.promote else "rejected"
    for key, value in {"gate": verdict, **decision.as_tags()}.items():
        client.set_model_version_tag(name, version, TAG + key, value[:5000])
    log_to_run(
        run_id,
        metrics={
            **decision_metrics(decision),
            "challenger_epochs": trained.epochs_run,
            **{f"challenger_{k}": v for k, v in trained.metrics.items()},
        },
        tags={TAG + "gate": verdict, TAG + "challenger_version": version, TAG + "kind": kind},
    )
    if not moved:  # a lost compare-and-set says nothing about the challenger's quality
        count_rejection(client, name, not decision.promote)
    if decision.promote and changed:
        restart_live(cfg, champion, frame, tags.get("batch_sha256", ""))
    new_champion = version if decision.promote else champion.version
    if moved:  # report the champion that is serving now, not the one this run started from
        new_champion = alias_version(client, name, CHAMPION) or champion.version
    log.info("challenger v%s (%s) %s: %s", version, kind, verdict, decision.reason)
    return ChallengeOutcome(decision, version, new_champion, kind, changed)
