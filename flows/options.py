"""The one place the model library's options are made from driftloop.toml."""

from __future__ import annotations

from driftloop.core.config import Config
from driftloop.drift import DriftOptions
from driftloop.models.options import (
    FinetuneOptions,
    GateRules,
    ModelOptions,
    ModelSpec,
    ProfileOptions,
    ReplayOptions,
    Store,
    TrainOptions,
)


def model_spec(cfg: Config) -> ModelSpec:
    """What the configured model predicts from which columns."""
    m, f = cfg.model, cfg.features
    return ModelSpec(m.name, m.target, m.task, tuple(f.numeric), tuple(f.categorical))


def model_options(cfg: Config) -> ModelOptions:
    """The model library's options for the configured model."""
    t, f, g = cfg.training, cfg.finetune, cfg.gate
    return ModelOptions(
        spec=model_spec(cfg),
        store=Store(
            cfg.mlflow_uri,
            cfg.tracking.experiment,
            cfg.artifact_location,
            cache=cfg.work_dir / "cache",
            checkpoints=cfg.work_dir / "checkpoints",
        ),
        train=TrainOptions(
            tuple(t.hidden_units),
            t.epochs,
            t.batch_size,
            t.learning_rate,
            t.validation_fraction,
            t.patience,
            t.seed,
            t.max_categories,
            t.memory_budget_mib,
        ),
        finetune=FinetuneOptions(
            f.strategy,
            f.freeze_layers,
            f.learning_rate,
            f.epochs,
            f.batch_size,
            f.reduce_lr_patience,
            t.patience,
            t.validation_fraction,
            t.seed,
            f.tensorboard,
        ),
        replay=ReplayOptions(
            f.replay_rows,
            f.replay_fraction,
            f.concept_replay_fraction,
            cfg.work_dir / "replay" / cfg.model.name,
            t.seed,
        ),
        gate=GateRules(
            f.holdout_fraction,
            g.min_improvement,
            g.max_forgetting,
            g.past_holdout_rows,
            g.escalate_after,
            g.recall_versions,
            cfg.drift.alpha,
            g.first_min_accuracy,
            g.first_max_rmse,
        ),
        profile=ProfileOptions(cfg.drift.profile_max_values, cfg.drift.joint_rows),
    )


def drift_options(cfg: Config) -> DriftOptions:
    """The drift test's options as the config sets them."""
    d = cfg.drift
    return DriftOptions(
        alpha=d.alpha,
        correction=d.correction,
        numeric_test=d.numeric_test,
        categorical_test=d.categorical_test,
        tests=dict(d.tests),
        effect_size_floor=d.effect_size_floor,
        missing_rate_floor=d.missing_rate_floor,
        multivariate=d.multivariate,
    )
