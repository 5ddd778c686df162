"""The one validated configuration object, and the one place it is read from disk."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from driftloop.config_env import env_name, env_overrides, merge
from driftloop.errors import ConfigError

CONFIG_ENV = "DRIFTLOOP_CONFIG"
DEFAULT_CONFIG_NAME = "driftloop.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSection(_Section):
    """What is being predicted and under which registered name."""

    name: str = Field(default="driftloop-model", min_length=1)
    target: str = Field(min_length=1)
    task: Literal["classification", "regression"] = "classification"


class FeaturesSection(_Section):
    """The feature schema: every column the model reads, by kind."""

    numeric: list[str] = Field(default_factory=list)
    categorical: list[str] = Field(default_factory=list)

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


class IngestSection(_Section):
    """How batches in the landing zone are found, checked, retried and recorded."""

    extra_columns: Literal["ignore", "reject"] = "ignore"
    min_rows: int = Field(default=20, ge=1)
    zone: str = ""
    settle_seconds: float = Field(default=0.0, ge=0.0)
    max_attempts: int = Field(default=3, ge=1)
    not_null: list[str] = Field(default_factory=list)
    categories: dict[str, list[str]] = Field(default_factory=dict)
    ranges: dict[str, list[float]] = Field(default_factory=dict)
    max_unseen_share: float = Field(default=0.5, gt=0.0, le=1.0)
    block_mib: int = Field(default=16, ge=1, le=1024)
    ledger_url: str = ""
    sample_rows: int = Field(default=100_000, ge=100)

    @model_validator(mode="after")
    def _check_ranges(self) -> IngestSection:
        for col, bounds in self.ranges.items():
            if len(bounds) != 2 or bounds[0] > bounds[1]:
                raise ValueError(f"ranges.{col} must be [min, max] with min <= max, got {bounds}")
        return self


class DriftSection(_Section):
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


class TrainingSection(_Section):
    """Initial training of the first model."""

    hidden_units: list[int] = Field(default_factory=lambda: [32, 16])
    epochs: int = Field(default=40, ge=1)
    batch_size: int = Field(default=64, ge=1)
    learning_rate: float = Field(default=3e-3, gt=0.0)
    validation_fraction: float = Field(default=0.2, gt=0.0, lt=1.0)
    patience: int = Field(default=4, ge=1)
    seed: int = 42


class FinetuneSection(_Section):
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


class GateSection(_Section):
    """What a challenger must show before it replaces the champion."""

    min_improvement: float = Field(default=0.0, ge=0.0, lt=1.0)
    max_forgetting: float = Field(default=0.02, ge=0.0, le=1.0)
    past_holdout_rows: int = Field(default=500, ge=0)
    first_min_accuracy: float = Field(default=0.0, ge=0.0, le=1.0)
    first_max_rmse: float = Field(default=0.0, ge=0.0)
    escalate_after: int = Field(default=3, ge=1)
    recall_versions: int = Field(default=3, ge=0)


class TrackingSection(_Section):
    """Where MLflow keeps runs and the model registry."""

    tracking_uri: str = ""
    experiment: str = Field(default="driftloop", min_length=1)


class PrefectSection(_Section):
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

    @model_validator(mode="after")
    def _one_schedule(self) -> PrefectSection:
        if self.monitor_cron and self.monitor_interval_seconds:
            raise ValueError(
                "set monitor_cron or monitor_interval_seconds, not both (0 turns the interval off)"
            )
        return self


class Config(_Section):
    """Everything driftloop reads: one object, validated once."""

    work_dir: Path = Path("driftloop-work")
    model: ModelSection
    features: FeaturesSection
    ingest: IngestSection = Field(default_factory=IngestSection)
    drift: DriftSection = Field(default_factory=DriftSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    finetune: FinetuneSection = Field(default_factory=FinetuneSection)
    gate: GateSection = Field(default_factory=GateSection)
    tracking: TrackingSection = Field(default_factory=TrackingSection)
    prefect: PrefectSection = Field(default_factory=PrefectSection)
    source: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _target_not_feature(self) -> Config:
        if self.model.target in self.features.all:
            raise ValueError(
                f"the target column {self.model.target!r} is also listed as a feature; "
                "remove it from [features]"
            )
        return self

    @property
    def landing_dir(self) -> Path:
        """Folder where new batches arrive."""
        return self.work_dir / "landing"

    @property
    def processed_dir(self) -> Path:
        """Folder where accepted batches end."""
        return self.work_dir / "processed"

    @property
    def quarantine_dir(self) -> Path:
        """Folder where rejected batches end, each beside a reason file."""
        return self.work_dir / "quarantine"

    @property
    def zone_url(self) -> str:
        """fsspec URL of the folder holding landing/, processed/ and quarantine/."""
        return self.ingest.zone.rstrip("/") or str(self.work_dir)

    @property
    def ledger_url(self) -> str:
        """SQLAlchemy URL of the batch ledger: [ingest] ledger_url, else MLflow's database."""
        from driftloop.ledger_url import ledger_url_of

        return ledger_url_of(self.ingest.ledger_url, self.mlflow_uri, self.source)

    @model_validator(mode="after")
    def _ledger_reachable(self) -> Config:
        from driftloop.ledger_url import check_ledger_url

        check_ledger_url(self.ingest.ledger_url, self.mlflow_uri)
        return self

    @property
    def prefect_home(self) -> Path:
        """PREFECT_HOME of the embedded mode (holds Prefect's own database)."""
        return self.work_dir / "prefect"

    @property
    def mlflow_uri(self) -> str:
        """MLflow tracking URI: the configured one, else SQLite in the work folder."""
        return self.tracking.tracking_uri or f"sqlite:///{self.work_dir / 'mlflow.db'}"

    @property
    def artifact_location(self) -> str | None:
        """Artifact root for the embedded store; None lets a tracking server decide."""
        if self.tracking.tracking_uri:
            return None
        return (self.work_dir / "mlartifacts").as_uri()

    def ensure_dirs(self) -> None:
        """Create the work folder and its landing, processed and quarantine folders."""
        for d in (self.landing_dir, self.processed_dir, self.quarantine_dir):
            d.mkdir(parents=True, exist_ok=True)


def find_config(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the config path: the argument, else $DRIFTLOOP_CONFIG, else ./driftloop.toml."""
    if path:
        found, how = Path(path), "--config"
    elif os.environ.get(CONFIG_ENV):
        found, how = Path(os.environ[CONFIG_ENV]), f"${CONFIG_ENV}"
    else:
        found, how = Path.cwd() / DEFAULT_CONFIG_NAME, "the current folder"
    if not found.is_file():
        raise ConfigError(
            f"no config file at {found} (taken from {how}). Create one with "
            "`driftloop init --data FILE --target COLUMN`, or pass --config PATH, "
            f"or set {CONFIG_ENV}."
        )
    return found


def _describe(err: ValidationError, source: Path | str) -> str:
    lines = [f"invalid config {source}:"]
    for e in err.errors():
        loc = [str(p) for p in e["loc"]]
        key = f"[{loc[0]}] {'.'.join(loc[1:])}" if len(loc) > 1 else (loc[0] if loc else "")
        msg = e["msg"]
        if e["type"] == "extra_forbidden":
            msg = "unknown key; check its spelling against `driftloop init` output"
        elif e["type"] == "missing":
            msg = "required key is missing; add it"
        elif e["type"] == "value_error":
            msg = msg.removeprefix("Value error, ")
        got = e.get("input")
        shown = "" if e["type"] in ("missing",) or isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"  {key}: {msg}{shown}".rstrip() if key else f"  {msg}{shown}".rstrip())
    return "\n".join(lines)


def config_from_dict(data: dict[str, Any], source: Path | None = None, where: str = "") -> Config:
    """Validate a config mapping; relative work_dir is taken against the config's folder."""
    where = where or str(source or "<config>")
    try:
        cfg = Config.model_validate({**data, "source": source})
    except ValidationError as err:
        raise ConfigError(_describe(err, where)) from None
    base = source.parent if source else Path.cwd()
    work = cfg.work_dir if cfg.work_dir.is_absolute() else (base / cfg.work_dir)
    return cfg.model_copy(update={"work_dir": work.resolve()})


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Find, read and validate the config file, with `DRIFTLOOP_<SECTION>__<KEY>` on top.

    Without a file (no argument, no $DRIFTLOOP_CONFIG, no ./driftloop.toml) the environment
    variables alone make the config, as in a container; see driftloop.config_env.
    """
    overrides = env_overrides(os.environ, Config)
    try:
        source: Path | None = find_config(path).resolve()
    except ConfigError:
        if path or os.environ.get(CONFIG_ENV) or not overrides:
            raise
        source = None
    data: dict[str, Any] = {}
    if source is not None:
        try:
            data = tomllib.loads(source.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"{source} is not valid TOML: {err}") from None
    where = str(source or "from the environment")
    if overrides:
        where += " with DRIFTLOOP_* variables " + ", ".join(_names(overrides))
    return config_from_dict(merge(data, overrides), source, where)


def _names(overrides: dict[str, Any]) -> list[str]:
    return [
        env_name(k, sub) if isinstance(v, dict) else env_name(None, k)
        for k, v in overrides.items()
        for sub in (v if isinstance(v, dict) else [""])
    ]
