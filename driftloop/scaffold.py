"""`driftloop init`: infer the feature schema from a sample file and write a commented config."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd

from driftloop.config import DEFAULT_CONFIG_NAME, config_from_dict
from driftloop.errors import ConfigError
from driftloop.ingest.read import read_table

TEMPLATE = """\
# driftloop configuration, written by `driftloop init` from {sample}.
# Paths are relative to this file. Every key below is at its default; edit what you need.

# Work folder: landing/ (drop new batches here), processed/, quarantine/,
# the embedded MLflow store (mlflow.db, mlartifacts/) and Prefect's store (prefect/).
work_dir = {work_dir}

[model]
name = {name}          # registered model name in MLflow
target = {target}      # label column; batches without it are drift-tested only
task = "classification"

[features]
# Inferred from {sample}: numbers are numeric, everything else categorical. Move a column
# between the lists if the guess is wrong (then bootstrap again).
numeric = {numeric}
categorical = {categorical}

[ingest]
extra_columns = "ignore"   # "ignore" unknown columns, or "reject" the batch to quarantine
min_rows = 20              # smaller batches go to quarantine

[drift]
alpha = 0.05               # family-wise significance level of the drift verdict
correction = "bonferroni"  # across features: "bonferroni", "holm" or "benjamini-hochberg"
profile_max_values = 50000 # reference values kept per numeric feature (exact KS below this)

[training]
hidden_units = [32, 16]    # dense layers after the preprocessing layers
epochs = 40                # upper bound; EarlyStopping ends sooner
batch_size = 64
learning_rate = 0.003
validation_fraction = 0.2  # share of training rows used for early stopping
patience = 4               # epochs without validation improvement before stopping
seed = 42

[finetune]
learning_rate = 0.001      # lower than training: adapt, don't start over
epochs = 30
replay_rows = 2000         # earlier labelled rows kept with each model version
replay_fraction = 0.3      # share of replayed rows in each fine-tuning set
holdout_fraction = 0.3     # share of the new batch kept aside to judge challenger vs champion
min_improvement = 0.0      # the challenger must beat the champion by more than this

[tracking]
tracking_uri = ""          # empty: sqlite:///<work_dir>/mlflow.db; or http://host:5000
experiment = "driftloop"

[prefect]
api_url = ""               # empty: Prefect's embedded mode; or http://host:4200/api
"""


def infer_schema(frame: pd.DataFrame, target: str) -> tuple[list[str], list[str]]:
    """Split the non-target columns into numeric and categorical by dtype."""
    numeric, categorical = [], []
    for col in frame.columns:
        if col == target:
            continue
        dtype = frame[col].dtype
        is_number = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        (numeric if is_number else categorical).append(str(col))
    return numeric, categorical


def write_config(
    data: Path,
    target: str,
    name: str = "driftloop-model",
    folder: Path | None = None,
    work_dir: str = "driftloop-work",
    overwrite: bool = False,
) -> Path:
    """Write driftloop.toml into `folder` (default: the current one); return its path."""
    folder = folder or Path.cwd()
    path = folder / DEFAULT_CONFIG_NAME
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} already exists; edit it, or delete it and run init again")
    frame = read_table(data)
    if target not in frame.columns:
        raise ConfigError(
            f"{data.name} has no column {target!r}; pass --target with one of {list(frame.columns)}"
        )
    numeric, categorical = infer_schema(frame, target)
    text = TEMPLATE.format(
        sample=data.name,
        work_dir=json.dumps(work_dir),
        name=json.dumps(name),
        target=json.dumps(target),
        numeric=json.dumps(numeric),
        categorical=json.dumps(categorical),
    )
    config_from_dict(tomllib.loads(text), path)  # fail now, not at the first run
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
