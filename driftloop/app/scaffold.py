"""`driftloop init`: infer the feature schema from a sample file and write a commented config."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd

from driftloop.core.config import DEFAULT_CONFIG_NAME, config_from_dict
from driftloop.core.errors import ConfigError
from driftloop.ingest.read import read_table

TEMPLATE = """\
# driftloop configuration, written by `driftloop init` from {sample}.
# Paths are relative to this file. Every key below is at its default; edit what you need.

# Work folder: landing/ (drop new batches here), processed/, quarantine/,
# the embedded MLflow store (mlflow.db, which also holds the batch ledger; mlartifacts/)
# and Prefect's store (prefect/).
work_dir = {work_dir}

[model]
name = {name}          # registered model name in MLflow
target = {target}      # label column; batches without it are drift-tested only
task = "classification"    # or "regression" (a numeric target)

[features]
# Inferred from {sample}: numbers are numeric, everything else categorical. Move a column
# between the lists if the guess is wrong (then bootstrap again).
numeric = {numeric}           # columns fed to normalisation
categorical = {categorical}   # columns fed to a one-hot category lookup

[ingest]
extra_columns = "ignore"   # "ignore" unknown columns, or "reject" the batch to quarantine
min_rows = 20              # smaller batches go to quarantine
zone = ""                  # fsspec URL holding landing/ processed/ quarantine/; empty: work_dir
settle_seconds = 0.0       # pick up a file only this long after its last change (0: at once)
max_attempts = 3           # a batch whose processing fails this often goes to quarantine
not_null = []             # columns that must have a value in every row
categories = {{}}           # allowed values per column, e.g. {{ c1 = ["a", "b"] }}
ranges = {{}}               # allowed [min, max] per numeric column, e.g. {{ x1 = [0, 100] }}
max_unseen_share = 0.5     # quarantine when more rows than this hold never-seen categories
block_mib = 16             # CSV/JSON read block; one field larger than this is refused
# Database of the batch ledger (SQLAlchemy URL: sqlite:///... or postgresql://...). Empty: the
# MLflow tracking database itself (tables driftloop_*); required when tracking_uri is http(s).
ledger_url = ""
# Larger batches are streamed whole through hashing and validation, but drift tests, scoring
# and fine-tuning see a seeded uniform sample of this many rows (bounded memory).
sample_rows = 100000

[drift]
alpha = 0.05               # family-wise significance level of the drift verdict
correction = "holm"        # across all tests: "holm", "bonferroni" or "benjamini-hochberg"
# numeric_test: "ks", "ad" (Anderson-Darling), "cvm" (Cramer-von Mises), "wasserstein",
# "psi" or "js" (Jensen-Shannon)
numeric_test = "ks"
categorical_test = "chi2"  # "chi2" (two-sample, sparse cells merged), "psi", "js" (Jensen-Shannon)
tests = {{}}                 # per-feature overrides, e.g. {{ income = "ad", city = "js" }}
# A feature drifts only if its effect is at least this: Wasserstein distance / reference std
# (numeric), Jensen-Shannon distance (categorical).
effect_size_floor = 0.05
missing_rate_floor = 0.01  # the missing-rate test flags only a rate change of at least this
multivariate = "off"       # "mmd": also test the joint distribution of numeric features
joint_rows = 500           # rows per side of the multivariate test (kept in the profile)
profile_max_values = 50000 # reference values kept per numeric feature (subsampled above)
# A labelled batch with drift gets a challenger when: "performance" = the champion's own
# errors on it changed (feature-only drift is reported, not retrained on); "any" = any test.
retrain_on = "performance"
# ...and when none of the last retrain_cooldown batches challenged the champion (a
# challenger or a recall); else its drift is recorded as "drift-cooldown" (0: no cool-down).
retrain_cooldown = 1

[training]
hidden_units = [32, 16]    # dense layers after the preprocessing layers
epochs = 40                # upper bound; EarlyStopping ends sooner
batch_size = 64            # rows per gradient step
learning_rate = 0.003      # Adam's learning rate for training from scratch
validation_fraction = 0.2  # share of training rows used for early stopping
patience = 4               # epochs without validation improvement before stopping
seed = 42                  # seeds splits, weights and shuffling: same data, same model

[finetune]
strategy = "all"           # "all": every layer, optimizer state kept; "freeze": first layers fixed
freeze_layers = 1          # with strategy "freeze": hidden layers (from the input side) kept fixed
learning_rate = 0.002      # lower than training: adapt, don't start over
epochs = 60                # upper bound; EarlyStopping ends sooner
batch_size = 64            # larger is faster but adapts less per epoch
reduce_lr_patience = 2     # halve the learning rate after this many epochs without improvement
replay_rows = 2000         # reservoir of earlier labelled rows kept with each model version
replay_fraction = 0.3      # share of replayed rows in each fine-tuning set
# ... after a concept change (the champion does significantly worse on the new labelled rows),
# earlier rows carry the old rule's labels: replay at most this share of them (0 = none)
concept_replay_fraction = 0.0
holdout_fraction = 0.3     # share of the new batch kept aside to judge challenger vs champion
tensorboard = true         # keep TensorBoard logs of each fine-tune as MLflow artifacts

[gate]
min_improvement = 0.0      # on new data the challenger must gain more than this (RMSE: relative)
max_forgetting = 0.02      # on past data it may lose at most this (skipped after a concept change)
past_holdout_rows = 500    # replayed rows kept out of fine-tuning to measure forgetting
first_min_accuracy = 0.0   # the first model must reach this validation accuracy (classification)
first_max_rmse = 0.0       # ... or at most this validation RMSE (regression; 0 = no threshold)
escalate_after = 3         # after this many rejected fine-tunes in a row, retrain from scratch
# On drift, first try this many earlier champions (newest first): one that fits the batch
# again (recurring concept) and beats the champion serves again, untrained. 0: never.
recall_versions = 3

[tracking]
tracking_uri = ""          # empty: sqlite:///<work_dir>/mlflow.db; or http://host:5000
experiment = "driftloop"   # MLflow experiment holding one run per batch

[prefect]
api_url = ""               # empty: Prefect's embedded mode; or http://host:4200/api
# `driftloop serve`: schedule of the monitor deployment, a cron ("*/10 * * * *", UTC) or an
# interval in seconds (0 = off); with neither, monitor runs only when triggered.
monitor_cron = ""          # e.g. "*/10 * * * *"; set this or the interval, not both
monitor_interval_seconds = 0.0  # e.g. 300.0; 0 = no interval schedule
retrain = "inline"         # on drift: "inline" (in the batch's run) or "event" (a retrain run)
poll_seconds = 10.0        # how often `driftloop serve` asks the server for runs to start
io_retries = 3             # retries of tasks that talk to MLflow or storage...
io_retry_delay_seconds = 2.0  # ... after 2, 4, 8 ... seconds (doubled each time, with jitter)
task_runner = "default"    # "dask": drift tests of large batches on a Dask cluster (extra [dask])
dask_address = ""          # scheduler address (tcp://host:8786); empty: a local cluster per batch
dask_min_rows = 1000000    # batches with fewer rows are tested in-process
# One retrain per model at a time: a slot leased from Prefect, renewed while the retrain runs.
retrain_wait_seconds = 600.0  # how long a run waits for a live holder before failing
retrain_lease_seconds = 60.0  # a holder silent this long is dead and its slot is taken back
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
