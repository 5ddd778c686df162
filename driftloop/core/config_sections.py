"""The sections of driftloop.toml, each a validated model with its defaults."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from driftloop.core.config_checks import no_booleans

# A column name: not empty, not only spaces (names are matched exactly, spaces included).
Column = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]
# A registered model name: also a Prefect deployment and a file name, so no '/' or spaces.
MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


class Section(BaseModel):
    """A table of driftloop.toml: unknown keys are errors, values are frozen, numbers finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _numbers_not_booleans(cls, data: Any) -> Any:
        no_booleans(cls, data)
        return data


class ModelSection(Section):
    """What is being predicted and under which registered name."""

    name: str = Field(default="driftloop-model", pattern=MODEL_NAME)
    target: Column
    task: Literal["classification", "regression"] = "classification"
    # Columns kept out of the model on purpose, named so `init`'s choice is on record and no
    # one lists them as features later ("": none). The id column, when set, must be in every
    # batch (rows without an id are refused) and is what late label files are joined by.
    id_column: str = ""
    time_column: str = ""


class FeaturesSection(Section):
    """The feature schema: every column the model reads, by kind."""

    numeric: list[Column] = Field(default_factory=list)
    categorical: list[Column] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> FeaturesSection:
        names = [*self.numeric, *self.categorical]
        if not names:
            raise ValueError("no feature listed: put column names in numeric and/or categorical")
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"columns listed more than once: {dupes}; list each column once")
        return self

    @property
    def all(self) -> list[str]:
        """Every feature column, numeric first."""
        return [*self.numeric, *self.categorical]


class IngestSection(Section):
    """How batches in the landing zone are found, checked, retried and recorded."""

    extra_columns: Literal["ignore", "reject"] = "ignore"
    min_rows: int = Field(default=20, ge=1)
    zone: str = ""
    settle_seconds: float = Field(default=0.0, ge=0.0, le=86_400.0)
    max_attempts: int = Field(default=3, ge=1, le=1000)
    not_null: list[Column] = Field(default_factory=list)
    categories: dict[str, list[str]] = Field(default_factory=dict)
    ranges: dict[str, list[float]] = Field(default_factory=dict)
    max_unseen_share: float = Field(default=0.5, gt=0.0, le=1.0)
    block_mib: int = Field(default=16, ge=1, le=1024)
    ledger_url: str = ""
    sample_rows: int = Field(default=100_000, ge=100)
    lock_wait_seconds: float = Field(default=0.0, ge=0.0, le=86_400.0)

    @model_validator(mode="after")
    def _check_ranges(self) -> IngestSection:
        for col, bounds in self.ranges.items():
            if len(bounds) != 2 or bounds[0] > bounds[1]:
                raise ValueError(f"ranges.{col} must be [min, max] with min <= max, got {bounds}")
        return self


class DriftSection(Section):
    """The drift test: which tests, significance level, correction and effect-size floors."""

    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)
    correction: Literal["bonferroni", "holm", "benjamini-hochberg"] = "holm"
    numeric_test: Literal["ks", "ad", "cvm", "wasserstein", "psi", "js"] = "ks"
    categorical_test: Literal["chi2", "psi", "js"] = "chi2"
    tests: dict[str, Literal["ks", "ad", "cvm", "wasserstein", "psi", "js", "chi2"]] = Field(
        default_factory=dict
    )
    effect_size_floor: float = Field(default=0.05, ge=0.0)
    missing_rate_floor: float = Field(default=0.01, ge=0.0, le=1.0)
    multivariate: Literal["off", "mmd"] = "off"
    joint_rows: int = Field(default=500, ge=10)
    profile_max_values: int = Field(default=50_000, ge=100)
    retrain_on: Literal["performance", "any"] = "performance"
    retrain_cooldown: int = Field(default=1, ge=0)


class TrainingSection(Section):
    """Initial training of the first model."""

    hidden_units: list[Annotated[int, Field(ge=1, le=65_536)]] = Field(
        default_factory=lambda: [32, 16], max_length=64
    )
    epochs: int = Field(default=40, ge=1)
    batch_size: int = Field(default=64, ge=1)
    learning_rate: float = Field(default=3e-3, gt=0.0)
    validation_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    patience: int = Field(default=4, ge=1)
    seed: int = 42
    max_categories: int = Field(default=1000, ge=1, le=1_000_000)
    memory_budget_mib: int = Field(default=2048, ge=16)


class FinetuneSection(Section):
    """Fine-tuning of the champion: strategy, learning rate, replay."""

    strategy: Literal["all", "freeze"] = "all"
    freeze_layers: int = Field(default=1, ge=0)
    learning_rate: float = Field(default=2e-3, gt=0.0)
    epochs: int = Field(default=60, ge=1)
    batch_size: int = Field(default=64, ge=1)
    reduce_lr_patience: int = Field(default=2, ge=1)
    replay_rows: int = Field(default=2000, ge=0)
    replay_fraction: float = Field(default=0.3, ge=0.0, lt=1.0)
    concept_replay_fraction: float = Field(default=0.0, ge=0.0, lt=1.0)
    holdout_fraction: float = Field(default=0.3, gt=0.0, lt=1.0)
    tensorboard: bool = True


class GateSection(Section):
    """What a challenger must show before it replaces the champion."""

    min_improvement: float = Field(default=0.0, ge=0.0, lt=1.0)
    max_forgetting: float = Field(default=0.02, ge=0.0, le=1.0)
    past_holdout_rows: int = Field(default=500, ge=0)
    first_min_accuracy: float = Field(default=0.0, ge=0.0, le=1.0)
    first_max_rmse: float = Field(default=0.0, ge=0.0)
    escalate_after: int = Field(default=3, ge=1)
    recall_versions: int = Field(default=3, ge=0)


class LabelsSection(Section):
    """Labels that come late (joined by `[model] id_column`), and what to do while they are missing.

    Late labels: files of (id, target) in the zone's labels/ folder, joined to processed
    batches.

    ``trigger = "labels"`` (default): only labels act; the drop (``__estimated_accuracy__``)
    is reported and alerts. ``"estimate"``: it also marks the champion's version at risk (tag
    ``driftloop.at_risk``: the batch and its estimate) and records the batch as ``at-risk``; an
    unlabelled batch cannot be fine-tuned on.
    """

    trigger: Literal["labels", "estimate"] = "labels"

    # The labelled share of a batch's kept rows at which it is performance-tested and, if the
    # champion's errors drifted, challenged (once).
    min_fraction: float = Field(default=0.5, gt=0.0, le=1.0)


class TrackingSection(Section):
    """Where MLflow keeps runs and the model registry."""

    tracking_uri: str = ""
    experiment: str = Field(default="driftloop", min_length=1)


class PrefectSection(Section):
    """Where Prefect runs (empty api_url: embedded mode) and how `driftloop serve` runs flows."""

    api_url: str = ""
    monitor_cron: str = ""
    monitor_interval_seconds: float = Field(default=0.0, ge=0.0)
    retrain: Literal["inline", "event"] = "inline"
    poll_seconds: float = Field(default=10.0, gt=0.0)
    io_retries: int = Field(default=3, ge=0, le=20)
    io_retry_delay_seconds: float = Field(default=2.0, ge=0.0)
    task_runner: Literal["default", "dask"] = "default"
    dask_address: str = ""
    dask_min_rows: int = Field(default=1_000_000, ge=1)
    retrain_wait_seconds: float = Field(default=600.0, ge=0.0)
    retrain_lease_seconds: float = Field(default=60.0, ge=3.0, le=3600.0)

    @model_validator(mode="after")
    def _one_schedule(self) -> PrefectSection:
        if self.monitor_cron and self.monitor_interval_seconds:
            raise ValueError(
                "set monitor_cron or monitor_interval_seconds, not both (0 turns the interval off)"
            )
        return self
