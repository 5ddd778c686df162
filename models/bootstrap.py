"""The first model: train from scratch, judge it by value thresholds, register, crown it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion

from driftloop.core.config import Config
from driftloop.core.errors import RegistryError, TrainingError
from driftloop.models.gate import first_model_passes
from driftloop.models.history import count_rejection
from driftloop.models.memory import estimate_training_memory, require_memory_budget
from driftloop.models.reference import profile_with_predictions
from driftloop.models.registry import CHAMPION, alias_version, connect, log_version, promote
from driftloop.models.replay import ReplayBuffer
from driftloop.models.serving import is_classifier
from driftloop.models.tracking import log_to_run, start_batch_run
from driftloop.models.train import train_from_scratch


def bootstrap_model(
    frame: pd.DataFrame,
    profile: dict[str, Any],
    cfg: Config,
    source: str,
    sha256: str,
    force: bool = False,
) -> ModelVersion:
    """Train the first model on labelled data, register it and point `champion` at it."""
    client = connect(cfg)
    name = cfg.model.name
    existing = alias_version(client, name, CHAMPION)
    if existing is not None and not force:
        raise RegistryError(
            f"model {name!r} already has a champion (version {existing}); "
            "use `driftloop retrain` to adapt it, or `driftloop bootstrap --force` to replace it "
            "with a model trained from scratch."
        )
    t, f = cfg.training, cfg.features
    need = estimate_training_memory(
        frame,
        f.numeric,
        f.categorical,
        cfg.model.target,
        cfg.model.task,
        t.hidden_units,
        t.max_categories,
    )
    require_memory_budget(need, t.memory_budget_mib)
    trained = train_from_scratch(frame, cfg)
    run_id = start_batch_run(
        f"bootstrap:{source}",
        params={
            "data": source,
            "rows": len(frame),
            "task": cfg.model.task,
            "hidden_units": cfg.training.hidden_units,
            "learning_rate": cfg.training.learning_rate,
            "epochs": cfg.training.epochs,
        },
        tags={"driftloop.kind": "bootstrap", "driftloop.batch_sha256": sha256},
    )
    log_to_run(run_id, metrics={**trained.metrics, "epochs_run": trained.epochs_run})
    metric = "accuracy" if is_classifier(trained.meta) else "rmse"
    threshold = cfg.gate.first_min_accuracy if metric == "accuracy" else cfg.gate.first_max_rmse
    ok, reason = first_model_passes(
        metric, trained.metrics[f"validation_{metric}"], threshold or None
    )
    if not ok:
        raise TrainingError(
            f"{reason}; the model was not registered. Check the data or lower "
            "the threshold in [gate]."
        )
    buffer = ReplayBuffer(frame.iloc[0:0]).add(
        frame,
        cfg.model.target,
        cfg.finetune.replay_rows,
        cfg.training.seed,
        is_classifier(trained.meta),
    )
    if trained.validation_errors is None:
        raise TrainingError("training returned no validation errors; cannot set a reference")
    version = log_version(
        trained,
        profile_with_predictions(profile, trained, frame, cfg),
        buffer.frame,
        cfg,
        np.asarray(trained.validation_errors),
        tags={
            "kind": "initial",
            "parent_version": "",
            "batch_sha256": sha256,
            "replay_seen": buffer.seen_json(),
            "gate": "promoted",
            "gate_reason": reason,
        },
        run_id=run_id,
    )
    promote(client, name, str(version.version), trigger=f"bootstrap:{source}", reason=reason)
    count_rejection(client, name, rejected=False)
    return version
