"""The one validated configuration object, and the one place it is read from disk."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from driftloop.core.config_checks import column_problems
from driftloop.core.config_env import env_name, env_overrides, merge
from driftloop.core.config_sections import (
    DriftSection,
    FeaturesSection,
    FinetuneSection,
    GateSection,
    IngestSection,
    LabelsSection,
    ModelSection,
    PrefectSection,
    Section,
    TrackingSection,
    TrainingSection,
)
from driftloop.core.errors import ConfigError
from driftloop.core.redact import redact

CONFIG_ENV = "DRIFTLOOP_CONFIG"
DEFAULT_CONFIG_NAME = "driftloop.toml"


class Config(Section):
    """Everything driftloop reads: one object, validated once."""

    work_dir: Path = Path("driftloop-work")
    model: ModelSection
    features: FeaturesSection
    ingest: IngestSection = Field(default_factory=IngestSection)
    drift: DriftSection = Field(default_factory=DriftSection)
    training: TrainingSection = Field(default_factory=TrainingSection)
    finetune: FinetuneSection = Field(default_factory=FinetuneSection)
    gate: GateSection = Field(default_factory=GateSection)
    labels: LabelsSection = Field(default_factory=LabelsSection)
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

    @model_validator(mode="after")
    def _columns_known(self) -> Config:
        problem = column_problems(
            self.model.target, self.features.numeric, self.features.categorical, self.ingest
        )
        if problem:
            raise ValueError(problem)
        return self

    @model_validator(mode="after")
    def _kept_out_columns(self) -> Config:
        m = self.model
        for key, col in (("id_column", m.id_column), ("time_column", m.time_column)):
            if col and (col in self.features.all or col == m.target):
                role = "the target" if col == m.target else "a feature"
                raise ValueError(
                    f"[model] {key} {col!r} is also {role}; that column is kept out of the "
                    f'model: remove it from [features], or set {key} to another column or ""'
                )
        if m.id_column and m.id_column == m.time_column:
            raise ValueError(f"[model] id_column and time_column are both {m.id_column!r}")
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
    def late_labels_dir(self) -> Path:
        """Folder of the rows kept from unlabelled batches, waiting for their late labels."""
        return self.work_dir / "late-labels"

    @property
    def zone_url(self) -> str:
        """fsspec URL of the folder holding landing/, processed/ and quarantine/."""
        return self.ingest.zone.rstrip("/") or str(self.work_dir)

    @property
    def ledger_url(self) -> str:
        """SQLAlchemy URL of the batch ledger: [ingest] ledger_url, else MLflow's database."""
        from driftloop.core.ledger_url import ledger_url_of

        return ledger_url_of(self.ingest.ledger_url, self.mlflow_uri, self.source)

    @model_validator(mode="after")
    def _ledger_reachable(self) -> Config:
        from driftloop.core.ledger_url import check_ledger_url

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
        check_work_dir(self)
        for d in (self.landing_dir, self.processed_dir, self.quarantine_dir):
            d.mkdir(parents=True, exist_ok=True)


def config_where(cfg: Config) -> str:
    return f" (from {cfg.source})" if cfg.source else ""


def check_work_dir(cfg: Config) -> None:
    """Raise ConfigError unless work_dir is a folder driftloop can create or write."""
    work = cfg.work_dir
    probe = work
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        what = "work_dir" if probe == work else f"work_dir's parent {probe}"
        raise ConfigError(
            f"work_dir = {work}{config_where(cfg)}: {what} is a file, not a folder; point work_dir "
            "at a folder (it is created if missing) or move that file away."
        )
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(
            f"work_dir = {work}{config_where(cfg)}: {probe} is not writable by this user; fix its "
            "permissions or point work_dir at a folder you can write."
        )


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
    return redact("\n".join(lines))


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
    variables alone make the config, as in a container; see driftloop.core.config_env.
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
        except UnicodeDecodeError as err:
            raise ConfigError(
                f"{source} is not UTF-8 text ({err.reason} at byte {err.start}); save the "
                "config as UTF-8 (`driftloop init` writes one)."
            ) from None
        except OSError as err:
            raise ConfigError(
                f"cannot read the config file {source}: {err.strerror}; check its "
                "permissions, or pass another one with --config PATH."
            ) from None
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
