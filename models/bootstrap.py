"""The first model: train from scratch, judge it by value thresholds, register, crown it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

from driftloop.core.errors import RegistryError, TrainingError
from driftloop.models.calibration import calibration_of
from driftloop.models.data import split_frame
from driftloop.models.evaluate import metric_name
from driftloop.models.gate import first_model_passes
from driftloop.models.history import count_rejection
from driftloop.models.memory import estimate_training_memory, require_memory_budget
from driftloop.models.options import ModelOptions
from driftloop.models.reference import profile_with_predictions
from driftloop.models.registry import (
    CHAMPION,
    VersionInputs,
    alias_version,
    connect,
    log_version,
    promote,
)
from driftloop.models.replay import ReplayBuffer
from driftloop.models.serving import is_classifier
from driftloop.models.tracking import log_to_run, start_batch_run
from driftloop.models.train import TrainedModel, train_from_scratch
from driftloop.models.version_record import GateRecord, Lineage, where_recorded


def _first_gate(trained: TrainedModel, opts: ModelOptions) -> str:
    """The first model's value threshold: the reason it passed, or a TrainingError."""
    metric = metric_name(trained.meta)
    g = opts.gate
    threshold = g.first_min_accuracy if metric == "accuracy" else g.first_max_rmse
    ok, reason = first_model_passes(
        metric, trained.metrics[f"validation_{metric}"], threshold or None
    )
    if not ok:
        raise TrainingError(
            f"{reason}; the model was not registered. Check the data or lower "
            "the threshold in [gate]."
        )
    return reason


def _bootstrap_run(
    client: MlflowClient, opts: ModelOptions, source: str, rows: int, sha256: str
) -> str:
    """The MLflow run of the first model's training, with its data and settings."""
    t = opts.train
    return start_batch_run(
        client,
        opts.store.experiment,
        f"bootstrap:{source}",
        params={
            "data": source,
            "rows": rows,
            "task": opts.spec.task,
            "hidden_units": list(t.hidden_units),
            "learning_rate": t.learning_rate,
            "epochs": t.epochs,
        },
        tags={"driftloop.kind": "bootstrap", "driftloop.batch_sha256": sha256},
    )


def _within_budget(frame: pd.DataFrame, opts: ModelOptions) -> None:
    """Refuse, before training, a model whose estimated memory is over the budget."""
    t, spec = opts.train, opts.spec
    need = estimate_training_memory(
        frame,
        spec.numeric,
        spec.categorical,
        spec.target,
        spec.task,
        t.hidden_units,
        t.max_categories,
    )
    require_memory_budget(need, t.memory_budget_mib)


def bootstrap_model(
    frame: pd.DataFrame,
    profile: dict[str, Any],
    opts: ModelOptions,
    source: str,
    sha256: str,
    force: bool = False,
) -> ModelVersion:
    """Train the first model on labelled data, register it and point `champion` at it."""
    client = connect(opts.store)
    name = opts.spec.name
    existing = alias_version(client, name, CHAMPION)
    if existing is not None and not force:
        raise RegistryError(
            f"model {name!r} already has a champion (version {existing}); "
            "use `driftloop retrain` to adapt it, or `driftloop bootstrap --force` to replace it "
            "with a model trained from scratch."
        )
    t, spec = opts.train, opts.spec
    _within_budget(frame, opts)
    trained = train_from_scratch(frame, spec, t)
    run_id = _bootstrap_run(client, opts, source, len(frame), sha256)
    log_to_run(client, run_id, metrics={**trained.metrics, "epochs_run": trained.epochs_run})
    reason = _first_gate(trained, opts)
    buffer = ReplayBuffer(frame.iloc[0:0]).add(
        frame, opts.spec.target, opts.replay.rows, t.seed, is_classifier(trained.meta)
    )
    if trained.validation_errors is None:
        raise TrainingError("training returned no validation errors; cannot set a reference")
    reference = profile_with_predictions(profile, trained, frame, opts.profile.max_values, t.seed)
    _, valid = split_frame(frame, t.validation_fraction, t.seed)  # the rows of its errors
    made = VersionInputs(
        lineage=Lineage("initial", source, sha256, f"bootstrap:{source}"),
        buffer=buffer,
        reference_errors=np.asarray(trained.validation_errors),
        example=frame,
        gate=GateRecord("promoted", reason, metric_name(trained.meta)),
        calibration=calibration_of(trained.model, valid, trained.meta),
    )
    version, _ = log_version(client, name, trained, reference, made, run_id)
    text = f"First model, trained from scratch on {source}; {reason}."
    text = f"{text} {where_recorded(str(version.version))}"
    client.update_model_version(name, str(version.version), description=text)
    promote(client, name, str(version.version), trigger=f"bootstrap:{source}", reason=reason)
    count_rejection(client, name, rejected=False)
    return version
