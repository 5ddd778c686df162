"""The options the model library takes: small frozen objects, built from the config by the flows.

`driftloop.flows.options.model_options` is the one place they are made from `driftloop.toml`;
the library never reads the whole config. Each function takes the part it needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class ModelSpec:
    """What the model predicts, from which columns, under which registered name."""

    name: str
    target: str
    task: Task
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]

    @property
    def features(self) -> list[str]:
        """Every feature column, numeric first."""
        return [*self.numeric, *self.categorical]


@dataclass(frozen=True)
class TrainOptions:
    """Training from scratch: the network, the fit loop and its early stopping."""

    hidden_units: tuple[int, ...] = (32, 16)
    epochs: int = 40
    batch_size: int = 64
    learning_rate: float = 3e-3
    validation_fraction: float = 0.2
    patience: int = 4
    seed: int = 42
    max_categories: int = 1000
    memory_budget_mib: int = 2048


@dataclass(frozen=True)
class FinetuneOptions:
    """Fine-tuning a loaded champion: strategy, learning rate, epochs and callbacks."""

    strategy: Literal["all", "freeze"] = "all"
    freeze_layers: int = 1
    learning_rate: float = 2e-3
    epochs: int = 60
    batch_size: int = 64
    reduce_lr_patience: int = 2
    patience: int = 4
    validation_fraction: float = 0.2
    seed: int = 42
    tensorboard: bool = True


@dataclass(frozen=True)
class ReplayOptions:
    """The replay buffer: its capacity, its share of a fine-tuning set, where the live one lives."""

    rows: int = 2000
    fraction: float = 0.3
    concept_fraction: float = 0.0
    root: Path = Path("replay")
    seed: int = 42


@dataclass(frozen=True)
class GateRules:
    """What a challenger must show on which rows, and when to escalate or recall instead."""

    holdout_fraction: float = 0.3
    min_improvement: float = 0.0
    max_forgetting: float = 0.02
    past_holdout_rows: int = 500
    escalate_after: int = 3
    recall_versions: int = 3
    alpha: float = 0.05
    first_min_accuracy: float = 0.0
    first_max_rmse: float = 0.0


@dataclass(frozen=True)
class Store:
    """Where versions are registered and their files kept: the MLflow store and local copies."""

    tracking_uri: str
    experiment: str = "driftloop"
    artifact_location: str | None = None
    cache: Path = Path("cache")
    checkpoints: Path = Path("checkpoints")


@dataclass(frozen=True)
class ProfileOptions:
    """The reference profile stored with a version (values kept per feature, joint rows)."""

    max_values: int = 50_000
    joint_rows: int = 500


@dataclass(frozen=True)
class ModelOptions:
    """Everything the model library needs for one registered model."""

    spec: ModelSpec
    store: Store
    train: TrainOptions = TrainOptions()
    finetune: FinetuneOptions = FinetuneOptions()
    replay: ReplayOptions = ReplayOptions()
    gate: GateRules = GateRules()
    profile: ProfileOptions = ProfileOptions()
