"""The MLflow side of a model: log a version with its artifacts, load the champion, move aliases."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle
import mlflow
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from mlflow.models import ModelSignature
from mlflow.tracking import MlflowClient
from mlflow.types import ColSpec, Schema, TensorSpec

import models.serving as serving
from driftloop.config import Config
from driftloop.errors import RegistryError
from models._keras import keras_module
from models.train import TrainedModel

log = logging.getLogger(__name__)

CHAMPION = "champion"
PREVIOUS = "previous"
TAG = "driftloop."
PROFILE_FILE = "reference_profile.json"
REPLAY_FILE = "replay.parquet"
PIP_REQUIREMENTS = [
    f"mlflow=={mlflow.__version__}",
    "keras==3.15.1",
    "tensorflow-cpu==2.21.0",
    "pandas",
    "numpy",
]


@dataclass
class Champion:
    """A registered version (usually the one serving), with everything stored beside it."""

    name: str
    version: str
    model: Any
    meta: dict[str, Any]
    profile: dict[str, Any]
    replay: pd.DataFrame
    run_id: str
    tags: dict[str, str]
    folder: Path

    def fresh_model(self) -> Any:
        """A new copy of the Keras model, optimizer state included, to fine-tune."""
        return keras_module().saving.load_model(self.folder / serving.KERAS_FILE)

    @property
    def replay_seen(self) -> int:
        """How many labelled rows the replay buffer samples from."""
        return int(self.tags.get(TAG + "replay_seen", len(self.replay)))

    @property
    def reference_accuracy(self) -> float:
        """Accuracy measured when the version was made, on data it was not trained on."""
        return float(self.tags[TAG + "reference_accuracy"])

    @property
    def reference_rows(self) -> int:
        """Number of rows behind reference_accuracy."""
        return int(self.tags[TAG + "reference_rows"])


def connect(cfg: Config) -> MlflowClient:
    """Point MLflow at the configured store and experiment; return a client."""
    mlflow.set_tracking_uri(cfg.mlflow_uri)
    client = MlflowClient()
    try:
        exp = client.get_experiment_by_name(cfg.tracking.experiment)
        if exp is None:
            client.create_experiment(
                cfg.tracking.experiment, artifact_location=cfg.artifact_location
            )
    except MlflowException as err:
        raise RegistryError(
            f"cannot reach the MLflow tracking store at {cfg.mlflow_uri}: {err.message}. "
            "Start the tracking server, or fix [tracking] tracking_uri in driftloop.toml."
        ) from None
    mlflow.set_experiment(cfg.tracking.experiment)
    return client


def _signature(meta: dict[str, Any]) -> ModelSignature:
    inputs: list[ColSpec | TensorSpec] = [ColSpec("double", c) for c in meta["numeric"]]
    inputs += [ColSpec("string", c, required=False) for c in meta["categorical"]]
    outputs: list[ColSpec | TensorSpec] = [
        ColSpec("string" if isinstance(meta["classes"][0], str) else "long", "prediction")
    ]
    outputs += [ColSpec("double", f"proba_{c}") for c in meta["classes"]]
    return ModelSignature(inputs=Schema(inputs), outputs=Schema(outputs))


def log_version(
    trained: TrainedModel,
    profile: dict[str, Any],
    replay: pd.DataFrame,
    cfg: Config,
    reference_accuracy: float,
    reference_rows: int,
    tags: dict[str, str],
    run_id: str,
) -> ModelVersion:
    """Log the model (pyfunc: Keras file, profile, replay rows) and register a version."""
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(run_id=run_id):
        folder = Path(tmp)
        trained.model.save(folder / serving.KERAS_FILE)
        (folder / serving.META_FILE).write_text(json.dumps(trained.meta, indent=2), "utf-8")
        (folder / PROFILE_FILE).write_text(json.dumps(profile), "utf-8")
        replay.to_parquet(folder / REPLAY_FILE, index=False)
        cloudpickle.register_pickle_by_value(serving)
        try:
            info = mlflow.pyfunc.log_model(
                name="model",
                python_model=serving.KerasTabularModel(),
                artifacts={
                    "keras_model": str(folder / serving.KERAS_FILE),
                    "meta": str(folder / serving.META_FILE),
                    "profile": str(folder / PROFILE_FILE),
                    "replay": str(folder / REPLAY_FILE),
                },
                signature=_signature(trained.meta),
                pip_requirements=PIP_REQUIREMENTS,
                registered_model_name=cfg.model.name,
            )
        finally:
            cloudpickle.unregister_pickle_by_value(serving)
    version = str(info.registered_model_version)
    all_tags = {
        **tags,
        "run_id": run_id,
        "reference_accuracy": f"{reference_accuracy:.6f}",
        "reference_rows": str(reference_rows),
    }
    client = MlflowClient()
    for key, value in all_tags.items():
        client.set_model_version_tag(cfg.model.name, version, TAG + key, value)
    return client.get_model_version(cfg.model.name, version)


def alias_version(client: MlflowClient, name: str, alias: str) -> str | None:
    """The version an alias points at, or None if the alias (or the model) does not exist."""
    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def version_folder(cfg: Config, version: str) -> Path:
    """Local copy of a version's artifacts (downloaded once, kept under the work folder)."""
    name = cfg.model.name
    store = hashlib.sha1(cfg.mlflow_uri.encode()).hexdigest()[:10]
    folder = cfg.work_dir / "cache" / store / name / version
    if not (folder / REPLAY_FILE).is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=f"models:/{name}/{version}", dst_path=tmp
                )
            )
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(local / "artifacts", folder)
    return folder


def load_version(cfg: Config, client: MlflowClient, version: str) -> Champion:
    """Load one registered version: Keras model, metadata, profile, replay rows and tags."""
    mv = client.get_model_version(cfg.model.name, version)
    folder = version_folder(cfg, version)
    return Champion(
        name=cfg.model.name,
        version=version,
        model=keras_module().saving.load_model(folder / serving.KERAS_FILE),
        meta=json.loads((folder / serving.META_FILE).read_text("utf-8")),
        profile=json.loads((folder / PROFILE_FILE).read_text("utf-8")),
        replay=pd.read_parquet(folder / REPLAY_FILE),
        run_id=mv.run_id or "",
        tags=dict(mv.tags),
        folder=folder,
    )


def load_champion(cfg: Config, client: MlflowClient) -> Champion:
    """Load the version behind `champion`."""
    version = alias_version(client, cfg.model.name, CHAMPION)
    if version is None:
        raise RegistryError(
            f"model {cfg.model.name!r} has no '{CHAMPION}' version in {cfg.mlflow_uri}; "
            "train one with `driftloop bootstrap --data FILE`."
        )
    return load_version(cfg, client, version)


def promote(client: MlflowClient, name: str, version: str) -> str | None:
    """Point `champion` at version and `previous` at the old champion; return the old one."""
    old = alias_version(client, name, CHAMPION)
    if old is not None and old != version:
        client.set_registered_model_alias(name, PREVIOUS, old)
    client.set_registered_model_alias(name, CHAMPION, version)
    log.info("model %s: champion %s -> %s", name, old, version)
    return old


def rollback(client: MlflowClient, name: str) -> tuple[str, str]:
    """Point `champion` back at `previous`; `previous` moves to that version's parent, if any."""
    current = alias_version(client, name, CHAMPION)
    before = alias_version(client, name, PREVIOUS)
    if current is None or before is None:
        raise RegistryError(
            f"model {name!r} has no '{PREVIOUS}' version to roll back to "
            f"(champion: {current}); nothing was changed."
        )
    client.set_registered_model_alias(name, CHAMPION, before)
    parent = client.get_model_version(name, before).tags.get(TAG + "parent_version", "")
    if parent:
        client.set_registered_model_alias(name, PREVIOUS, parent)
    else:
        client.delete_registered_model_alias(name, PREVIOUS)
    client.set_model_version_tag(name, current, TAG + "rolled_back", "true")
    log.info("model %s: rolled back champion %s -> %s", name, current, before)
    return current, before
