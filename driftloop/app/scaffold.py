"""`driftloop init`: decide every column's role from a sample file and write a commented config."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd

from driftloop.app.roles import TASK_RULE, Overrides, Role, RolePlan, infer_roles
from driftloop.core.config import DEFAULT_CONFIG_NAME, config_from_dict
from driftloop.core.config_sections import TrainingSection
from driftloop.core.errors import ConfigError
from driftloop.ingest.head import HEAD_ROWS, read_head

TEMPLATE = """\
# driftloop configuration, written by `driftloop init` from {sample}.
# Paths are relative to this file. Every key below is at its default; edit what you need.

# Work folder: landing/ (drop new batches here), labels/ (late label files, joined by
# [model] id_column), processed/, quarantine/, the embedded MLflow store (mlflow.db, which
# also holds the batch ledger; mlartifacts/) and Prefect's store (prefect/).
work_dir = {work_dir}

[model]
name = {name}          # registered model name in MLflow
target = {target}      # label column; batches without it are drift-tested only
# "classification" or "regression". init's rule: {task_rule}.
task = {task}  # {task_reason}
# Kept out of the features on purpose (must not be a feature or the target; "" = none).
id_column = {id_column}     # row identifier: then required in batches; late labels join by it
time_column = {time_column}   # the batch's date/time column; never a feature

[features]
# Every column's role, decided by `driftloop init` from {sample}{rows}. Excluded columns are
# ignored in batches. Move a column into a list if a guess is wrong (then bootstrap again);
# "review" marks columns whose role init could not tell: look at them.
{roles}
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
lock_wait_seconds = 0.0    # a run finding another run on the zone waits this long, then stops

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
# A categorical feature keeps its this-many most frequent values; rarer ones share one
# out-of-vocabulary bucket, so memory does not grow with the column's cardinality.
max_categories = 1000
# bootstrap estimates the memory of the model and its encodings first, and refuses above this.
memory_budget_mib = 2048

[finetune]
strategy = "all"           # "all": every layer, optimizer state kept; "freeze": first layers fixed
freeze_layers = 1          # with strategy "freeze": hidden layers (from the input side) kept fixed
learning_rate = 0.002      # lower than training: adapt, don't start over
epochs = 60                # upper bound; EarlyStopping ends sooner
batch_size = 64            # larger is faster but adapts less per epoch
reduce_lr_patience = 2     # halve the learning rate after this many epochs without improvement
replay_rows = 2000         # reservoir of earlier labelled rows kept with each model version
replay_fraction = 0.3      # share of replayed rows in each fine-tuning set
# ... after a concept change (the champion's realized accuracy is below its estimate's band),
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

[labels]
# An unlabelled batch whose estimated accuracy (the champion's calibrated confidence) drops
# beyond its band: "labels" = report and alert, only labels act; "estimate" = also mark the
# champion at risk (version tag driftloop.at_risk, action "at-risk").
trigger = "labels"
# Late labels (label files in the zone's labels/ folder, joined by [model] id_column): the
# labelled share of a batch at which its labelled rows are tested, and challenged if the
# champion's errors drifted (once per batch).
min_fraction = 0.5

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
    numeric: list[str] = []
    categorical: list[str] = []
    for col in frame.columns:
        if col == target:
            continue
        dtype = frame[col].dtype
        is_number = pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)
        (numeric if is_number else categorical).append(str(col))
    return numeric, categorical


def role_lines(plan: RolePlan) -> list[str]:
    """One aligned line per column: name (as JSON, so any name prints on one line), role, why."""
    names = [json.dumps(r.column, ensure_ascii=False) for r in plan.roles]
    width = min(max(len(n) for n in names), 40)
    return [
        f"{n:<{width}}  {r.role.value:<11}  {r.reason}"
        for n, r in zip(names, plan.roles, strict=True)
    ]


def format_plan(plan: RolePlan) -> str:
    """The table `driftloop init` prints: the task with its rule, then every column's role."""
    lines = [f"task: {plan.task} ({plan.task_reason}; rule: {TASK_RULE})"]
    lines += [f"  {line}" for line in role_lines(plan)]
    for key, col in (("id_column", plan.id_column), ("time_column", plan.time_column)):
        if col:
            lines.append(f"{key}: {json.dumps(col, ensure_ascii=False)}")
    review = plan.columns(Role.REVIEW)
    if review:
        lines.append(
            f"review: {review} are excluded because their role is unclear; add one to "
            "[features] (or pass --include) if the model should learn from it"
        )
    return "\n".join(lines)


def write_config(
    data: Path,
    target: str,
    name: str = "driftloop-model",
    folder: Path | None = None,
    work_dir: str = "driftloop-work",
    overwrite: bool = False,
    overrides: Overrides | None = None,
) -> Path:
    """Write driftloop.toml into `folder` (default: the current one); return its path."""
    return init_config(data, target, name, folder, work_dir, overwrite, overrides)[0]


def init_config(
    data: Path,
    target: str,
    name: str = "driftloop-model",
    folder: Path | None = None,
    work_dir: str = "driftloop-work",
    overwrite: bool = False,
    overrides: Overrides | None = None,
) -> tuple[Path, RolePlan]:
    """Decide the roles of a sample's columns, write driftloop.toml; return it and the plan."""
    folder = folder or Path.cwd()
    path = folder / DEFAULT_CONFIG_NAME
    if path.exists() and not overwrite:
        raise ConfigError(f"{path} already exists; edit it, or delete it and run init again")
    frame = read_head(data, HEAD_ROWS)
    try:
        plan = infer_roles(frame, target, overrides, TrainingSection().max_categories)
    except ConfigError as err:
        raise ConfigError(f"{data.name}: {err}") from None
    text = TEMPLATE.format(
        sample=data.name,
        rows=f" (its first {HEAD_ROWS:,} rows)" if len(frame) >= HEAD_ROWS else "",
        work_dir=json.dumps(work_dir),
        name=json.dumps(name),
        target=json.dumps(target),
        task=json.dumps(plan.task),
        task_reason=plan.task_reason,
        task_rule=TASK_RULE,
        id_column=json.dumps(plan.id_column),
        time_column=json.dumps(plan.time_column),
        roles="\n".join(f"#   {line}" for line in role_lines(plan)),
        numeric=json.dumps(plan.columns(Role.NUMERIC)),
        categorical=json.dumps(plan.columns(Role.CATEGORICAL)),
    )
    config_from_dict(tomllib.loads(text), path)  # fail now, not at the first run
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path, plan
