"""Challenger against champion: fine-tune, score both on one holdout, register, maybe promote."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient

from driftloop.config import Config
from models.data import split_frame
from models.evaluate import accuracy
from models.finetune import finetune
from models.gate import GateDecision, judge
from models.registry import TAG, Champion, log_version, promote
from models.replay import merge_replay
from models.tracking import log_to_run

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChallengeOutcome:
    """The gate's decision, the version the challenger was registered as, and the new champion."""

    decision: GateDecision
    challenger_version: str
    champion_version: str


def challenge(
    champion: Champion,
    frame: pd.DataFrame,
    profile: dict[str, Any],
    cfg: Config,
    client: MlflowClient,
    run_id: str,
    tags: dict[str, str],
) -> ChallengeOutcome:
    """Fine-tune the champion on a labelled batch and promote the result if it passes the gate."""
    fit_part, holdout = split_frame(frame, cfg.finetune.holdout_fraction, cfg.training.seed)
    trained = finetune(champion.fresh_model(), champion.meta, fit_part, champion.replay, cfg)
    decision = judge(
        accuracy(champion.model, holdout, champion.meta),
        accuracy(trained.model, holdout, champion.meta),
        len(holdout),
        cfg.finetune.min_improvement,
    )
    replay, seen = merge_replay(
        champion.replay, champion.replay_seen, fit_part, cfg.finetune.replay_rows, cfg.training.seed
    )
    verdict = "promoted" if decision.promote else "rejected"
    version = log_version(
        trained,
        profile,
        replay,
        cfg,
        reference_accuracy=decision.challenger_accuracy,
        reference_rows=decision.holdout_rows,
        tags={
            **tags,
            "kind": "finetune",
            "parent_version": champion.version,
            "replay_seen": str(seen),
            "gate": verdict,
            "gate_reason": decision.reason,
        },
        run_id=run_id,
    ).version
    log_to_run(
        run_id,
        metrics={
            "holdout_accuracy_champion": decision.champion_accuracy,
            "holdout_accuracy_challenger": decision.challenger_accuracy,
            "finetune_epochs": trained.epochs_run,
            **{f"finetune_{k}": v for k, v in trained.metrics.items()},
        },
        tags={TAG + "gate": verdict, TAG + "challenger_version": str(version)},
    )
    new_champion = champion.version
    if decision.promote:
        promote(client, cfg.model.name, str(version))
        new_champion = str(version)
    log.info("challenger v%s %s: %s", version, verdict, decision.reason)
    return ChallengeOutcome(decision, str(version), new_champion)
