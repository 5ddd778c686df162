"""The first model: train from scratch, register it, and make it the champion."""

from __future__ import annotations

from typing import Any

import pandas as pd
from mlflow.entities.model_registry import ModelVersion

from driftloop.config import Config
from driftloop.errors import RegistryError
from models.registry import CHAMPION, alias_version, connect, log_version, promote
from models.replay import merge_replay
from models.tracking import log_to_run, start_batch_run
from models.train import train_initial


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
    trained = train_initial(frame, cfg)
    run_id = start_batch_run(
        f"bootstrap:{source}",
        params={
            "data": source,
            "rows": len(frame),
            "hidden_units": cfg.training.hidden_units,
            "learning_rate": cfg.training.learning_rate,
            "epochs": cfg.training.epochs,
        },
        tags={"driftloop.kind": "bootstrap", "driftloop.batch_sha256": sha256},
    )
    log_to_run(run_id, metrics={**trained.metrics, "epochs_run": trained.epochs_run})
    replay, seen = merge_replay(
        frame.iloc[0:0], 0, frame, cfg.finetune.replay_rows, cfg.training.seed
    )
    version = log_version(
        trained,
        profile,
        replay,
        cfg,
        reference_accuracy=trained.metrics["validation_accuracy"],
        reference_rows=int(trained.metrics["validation_rows"]),
        tags={
            "kind": "initial",
            "parent_version": "",
            "batch_sha256": sha256,
            "replay_seen": str(seen),
            "gate": "promoted",
        },
        run_id=run_id,
    )
    promote(client, name, str(version.version))
    return version
