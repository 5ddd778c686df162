"""The MLflow side of a model: log a version with its artifacts, move the aliases, roll back."""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema, TensorSpec
from mlflow.types.schema import AnyType

import driftloop.models.serving as serving
from driftloop.core.errors import ChampionMoved, RegistryError, TrackingUnreachable
from driftloop.core.killpoints import checkpoint
from driftloop.core.redact import redact
from driftloop.models.evaluate import metric_name, summary
from driftloop.models.history import CHAMPION, PREVIOUS, list_moves, record_move
from driftloop.models.options import Store
from driftloop.models.replay import ReplayBuffer
from driftloop.models.replay_artifact import log_replay
from driftloop.models.tracking import at_store
from driftloop.models.train import TrainedModel
from driftloop.models.version_record import (
    TAG,
    GateRecord,
    Lineage,
    Reference,
    ReplayInfo,
    VersionRecord,
    write_record,
)

log = logging.getLogger(__name__)

PROFILE_FILE = "reference_profile.json"
REFERENCE_ERRORS = 2000
EXAMPLE_ROWS = 5
SERVING_CODE = str(Path(serving.__file__))
PIP_REQUIREMENTS = [
    f"mlflow=={mlflow.__version__}",
    "keras==3.15.1",
    "tensorflow-cpu==2.21.0",
    "pandas",
    "numpy",
]


@dataclass(frozen=True)
class VersionInputs:
    """What a new version is registered with besides the model: lineage, replay, reference."""

    lineage: Lineage
    buffer: ReplayBuffer  # the replay rows the version was made with (stored on the run)
    reference_errors: np.ndarray
    example: pd.DataFrame  # rows to take the input example's features from
    gate: GateRecord | None = None
    calibration: dict[str, Any] | None = None  # a classifier's confidence map (calibration.py)


def connect(store: Store) -> MlflowClient:
    """A client of the store, with the experiment created if it is missing."""
    client = MlflowClient(tracking_uri=store.tracking_uri, registry_uri=store.tracking_uri)
    try:
        if client.get_experiment_by_name(store.experiment) is None:
            client.create_experiment(store.experiment, artifact_location=store.artifact_location)
    except MlflowException as err:
        raise TrackingUnreachable(
            f"cannot reach the MLflow tracking store at {redact(store.tracking_uri)}: "
            f"{redact(err.message)}. "
            "Start the tracking server, or fix [tracking] tracking_uri in driftloop.toml."
        ) from None
    return client


def _label_type(classes: list[Any]) -> str:
    """The MLflow type of the served class labels (canonical: whole numbers, floats or text)."""
    first = classes[0]
    if isinstance(first, str):
        return "string"
    return "double" if isinstance(first, float) and not first.is_integer() else "long"


def _signature(meta: dict[str, Any]) -> ModelSignature:
    """Inputs of any type: the served model coerces ints, bools, categoricals and text itself.

    MLflow's schema enforcement runs before predict and refuses int64 for ``double`` and bool,
    int or pandas categorical columns for ``string``; ``any`` lets the frame `pandas.read_csv`
    or `read_parquet` gives for the training file through, and `serving.frame_to_inputs`
    brings each column to the model's type.
    """
    inputs: list[ColSpec | TensorSpec] = [ColSpec(AnyType(), c) for c in meta["numeric"]]
    inputs += [ColSpec(AnyType(), c, required=False) for c in meta["categorical"]]
    if not serving.is_classifier(meta):
        outputs: list[ColSpec | TensorSpec] = [ColSpec("double", "prediction")]
        return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))
    outputs = [ColSpec(_label_type(meta["classes"]), "prediction")]
    outputs += [ColSpec("double", f"proba_{c}") for c in meta["classes"]]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def _meta_with_reference(meta: dict[str, Any], errs: np.ndarray) -> tuple[dict[str, Any], float]:
    """The served metadata plus the reference: metric, value, rows, a sample of the errors."""
    name = metric_name(meta)
    value = summary(errs, name)
    sample = np.random.default_rng(0).permutation(errs)[:REFERENCE_ERRORS]
    reference = {"metric": name, "value": value, "rows": len(errs), "errors": sample.tolist()}
    return {**meta, "reference": reference}, value


def _log_model(folder: Path, meta: dict[str, Any], name: str, example: pd.DataFrame) -> Any:
    """Log the pyfunc model from the files in `folder` to the active run; register it."""
    return mlflow.pyfunc.log_model(
        name="model",
        python_model=SERVING_CODE,  # models-from-code: the source file, no pickle
        artifacts={
            "keras_model": str(folder / serving.KERAS_FILE),
            "meta": str(folder / serving.META_FILE),
            "profile": str(folder / PROFILE_FILE),
        },
        signature=_signature(meta),
        input_example=_input_example(example, meta),
        pip_requirements=PIP_REQUIREMENTS,
        registered_model_name=name,
    )


def _input_example(rows: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame | None:
    """A few feature rows (no target) of the data the version was made from, or None."""
    features = [*meta["numeric"], *meta["categorical"]]
    if rows.empty or any(c not in rows.columns for c in features):
        return None
    return rows[features].head(EXAMPLE_ROWS).reset_index(drop=True)


def log_version(
    client: MlflowClient,
    name: str,
    trained: TrainedModel,
    profile: dict[str, Any],
    made: VersionInputs,
    run_id: str,
) -> tuple[ModelVersion, VersionRecord]:
    """Log the model (pyfunc: Keras file, metadata, profile), register a version, record it.

    The replay rows go to the run (`replay_artifact`), not into the model, and the rest of
    what driftloop knows about the version to its record (`version_record`). The reference
    errors (per row, on data the model was not trained on) give the reference score.
    """
    errs = np.asarray(made.reference_errors, dtype="float64")
    meta, value = _meta_with_reference(trained.meta, errs)
    if made.calibration is not None:
        meta["reference"]["calibration"] = made.calibration
    with tempfile.TemporaryDirectory() as tmp, at_store(client), mlflow.start_run(run_id=run_id):
        folder = Path(tmp)
        trained.model.save(folder / serving.KERAS_FILE)
        (folder / serving.META_FILE).write_text(json.dumps(meta, indent=2), "utf-8")
        (folder / PROFILE_FILE).write_text(json.dumps(profile), "utf-8")
        info = _log_model(folder, trained.meta, name, made.example)
    version = str(info.registered_model_version)
    buffer = made.buffer
    record = VersionRecord(
        model=name,
        version=version,
        run_id=run_id,
        lineage=made.lineage,
        reference=Reference(meta["reference"]["metric"], value, len(errs)),
        replay=ReplayInfo(
            len(buffer.frame), buffer.seen, log_replay(client, run_id, version, buffer.frame)
        ),
        gate=made.gate,
    )
    write_record(client, record)
    return client.get_model_version(name, version), record


def logged_model_id(mv: ModelVersion) -> str | None:
    """The id of the LoggedModel behind a version (its source `models:/<id>`), if it has one."""
    if mv.model_id:
        return str(mv.model_id)
    source = mv.source or ""
    return source.removeprefix("models:/") if source.startswith("models:/m-") else None


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points at, or None if the alias (or the model) does not exist."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def promote(
    client: MlflowClient,
    name: str,
    version: str,
    trigger: str = "manual",
    reason: str = "",
    expected: str | None = None,
) -> str | None:
    """Point `champion` at version and `previous` at the old champion; record both moves.

    With `expected` (the champion the challenger was made from) this is a compare-and-set:
    if the champion is no longer `expected`, nothing moves and ChampionMoved is raised.
    """
    old = alias_version(client, name, CHAMPION)
    if expected is not None and old != expected:
        raise ChampionMoved(
            f"champion of {name!r} moved from version {expected} to {old} while version "
            f"{version} was being made from it; not promoted (retrain from the new champion)"
        )
    if old is not None and old != version:
        before = alias_version(client, name, PREVIOUS)
        client.set_registered_model_alias(name, PREVIOUS, old)
        record_move(client, name, PREVIOUS, before, old, trigger, f"replaced by version {version}")
    checkpoint("promote")
    client.set_registered_model_alias(name, CHAMPION, version)
    record_move(client, name, CHAMPION, old, version, trigger, reason)
    log.info("model %s: champion %s -> %s (%s)", name, old, version, trigger)
    return old


def _was_before(client: MlflowClient, name: str, version: str) -> str | None:
    """The version that was champion right before `version` last became champion."""
    for move in reversed(list_moves(client, name)):
        if move.alias == CHAMPION and move.to_version == version:
            return move.from_version
    return None


def rollback(
    client: MlflowClient, name: str, to: str | None = None, trigger: str = "manual"
) -> tuple[str, str]:
    """Point `champion` back at the version before it (or at `to`); return (from, to).

    "Before it" is read from the alias history; `previous` then points at what was champion
    before the restored version, so repeated rollbacks walk back through production history.
    """
    current = alias_version(client, name, CHAMPION)
    if current is None:
        raise RegistryError(
            f"model {name!r} has no champion yet, so there is nothing to roll back; nothing "
            "was changed. Train the first model with `driftloop bootstrap --data FILE`."
        )
    target = to or alias_version(client, name, PREVIOUS)
    if current is None or target is None:
        raise RegistryError(
            f"model {name!r} has no '{PREVIOUS}' version to roll back to "
            f"(champion: {current}); nothing was changed. Use --to VERSION to pick one."
        )
    try:
        client.get_model_version(name, target)
    except MlflowException:
        raise RegistryError(
            f"model {name!r} has no version {target}; nothing was changed"
        ) from None
    if target == current:
        raise RegistryError(f"version {target} is already the champion of {name!r}")
    before = _was_before(client, name, target) or client.get_model_version(name, target).tags.get(
        TAG + "parent_version", ""
    )
    client.set_registered_model_alias(name, CHAMPION, target)
    record_move(client, name, CHAMPION, current, target, trigger, "rollback")
    old_previous = alias_version(client, name, PREVIOUS)
    if before and before != target:
        client.set_registered_model_alias(name, PREVIOUS, before)
        record_move(client, name, PREVIOUS, old_previous, before, trigger, "rollback")
    elif old_previous is not None:
        client.delete_registered_model_alias(name, PREVIOUS)
        record_move(client, name, PREVIOUS, old_previous, None, trigger, "rollback")
    client.set_model_version_tag(name, current, TAG + "rolled_back", "true")
    log.info("model %s: rolled back champion %s -> %s", name, current, target)
    return current, target


def smoke_test(client: MlflowClient, name: str, version: str, sample: pd.DataFrame) -> str:
    """Load a version through mlflow.pyfunc and predict; return "" if it serves, else why not."""
    try:
        with at_store(client):
            served = mlflow.pyfunc.load_model(f"models:/{name}/{version}")
        out = served.predict(sample)
    except Exception as err:  # any failure to load or predict means "not servable"
        return f"servability: version {version} failed to load or predict: {err}"
    if len(out) != len(sample) or out["prediction"].isna().any():
        return f"servability: version {version} returned {len(out)} rows or missing predictions"
    return ""
