"""A registered version loaded for use: its Keras model and everything stored beside it."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities.model_registry import ModelVersion
from mlflow.tracking import MlflowClient

import driftloop.models.serving as serving
from driftloop import drift
from driftloop.core.errors import RegistryError
from driftloop.core.redact import redact
from driftloop.models._keras import keras_module
from driftloop.models.options import Store
from driftloop.models.registry import CHAMPION, PROFILE_FILE, alias_version
from driftloop.models.replay import ReplayBuffer
from driftloop.models.replay_artifact import load_replay
from driftloop.models.tracking import at_uri
from driftloop.models.version_record import VersionRecord, read_record


@dataclass
class Champion:
    """A registered version (usually the one serving), with everything stored beside it.

    The replay rows are fetched from the version's run on first use of `replay`, so loading
    a version to serve or score it downloads no training rows.
    """

    name: str
    version: str
    model: Any
    meta: dict[str, Any]
    profile: dict[str, Any]
    run_id: str
    record: VersionRecord
    folder: Path
    load_rows: Callable[[], pd.DataFrame] = field(repr=False)

    def fresh_model(self) -> Any:
        """A new copy of the Keras model, optimizer state included, to fine-tune."""
        return keras_module().saving.load_model(self.folder / serving.KERAS_FILE)

    @cached_property
    def reference(self) -> drift.ReferenceProfile:
        """The reference profile drift checks compare batches against (parsed once)."""
        return drift.ReferenceProfile.from_dict(self.profile)

    @cached_property
    def replay(self) -> pd.DataFrame:
        """The replay rows the version was made with (none when `replay_rows` is 0)."""
        return self.load_rows()

    @property
    def replay_buffer(self) -> ReplayBuffer:
        """The replay rows with the counts of rows each reservoir has seen."""
        return ReplayBuffer.from_json(self.replay, json.dumps(self.record.replay.seen))

    @property
    def reference_score(self) -> float:
        """Accuracy or RMSE measured when the version was made, on data it was not trained on."""
        return self.record.reference.score

    @property
    def reference_accuracy(self) -> float:
        """Accuracy measured when the version was made (classifiers only)."""
        return self.record.reference.score

    @property
    def reference_errors(self) -> np.ndarray:
        """A sample of per-row errors on held-out data when the version was made."""
        return np.asarray(self.meta.get("reference", {}).get("errors", []), dtype="float64")

    @property
    def reference_rows(self) -> int:
        """Number of rows behind reference_score."""
        return self.record.reference.rows


def version_folder(store: Store, name: str, version: str) -> Path:
    """Local copy of a version's model artifacts (downloaded once, kept in the store's cache)."""
    folder = _cache(store, name) / version
    if not (folder / serving.META_FILE).is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        # models:/ URIs resolve through the global registry URI, whatever is passed here.
        with tempfile.TemporaryDirectory(dir=folder.parent) as tmp, at_uri(store.tracking_uri):
            local = Path(
                mlflow.artifacts.download_artifacts(
                    artifact_uri=f"models:/{name}/{version}", dst_path=tmp
                )
            )
            if not (local / "artifacts").is_dir():
                raise RegistryError(
                    f"version {version} of model {name!r} has no files in the artifact store of "
                    f"{redact(store.tracking_uri)} (deleted, or the store moved): restore them, or "
                    "point champion back at the version before it with `driftloop rollback`."
                )
            shutil.rmtree(folder, ignore_errors=True)
            os.replace(local / "artifacts", folder)
    return folder


def _cache(store: Store, name: str) -> Path:
    """The store's cache folder of a model's versions."""
    return store.cache / hashlib.sha1(store.tracking_uri.encode()).hexdigest()[:10] / name


LOADED_KEEP = 2
"""Champions a process keeps loaded: the serving one and the one it replaced."""
# (tracking URI, model, version, the version's last update): a version's files never change,
# and its record is written before its description, the version's last update.
_LOADED: OrderedDict[tuple[str, str, str, int], Champion] = OrderedDict()


def load_version(store: Store, client: MlflowClient, name: str, version: str) -> Champion:
    """Load one registered version: Keras model, metadata, profile and record (rows lazily)."""
    return _load(store, client, client.get_model_version(name, version))


def _kept(store: Store, client: MlflowClient, name: str, version: str) -> Champion:
    """The version as this process loaded it before (one registry read), unless it was updated
    since; else loaded now and kept."""
    mv = client.get_model_version(name, version)
    key = (store.tracking_uri, name, str(version), int(mv.last_updated_timestamp or 0))
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    loaded = _load(store, client, mv)
    _LOADED[key] = loaded
    while len(_LOADED) > LOADED_KEEP:
        _LOADED.popitem(last=False)
    return loaded


def _load(store: Store, client: MlflowClient, mv: ModelVersion) -> Champion:
    """A version's files and record, read from the registry (the model files cached on disk)."""
    name, version = mv.name, str(mv.version)
    folder = version_folder(store, name, version)
    record = read_record(client, mv)
    meta = json.loads((folder / serving.META_FILE).read_text("utf-8"))
    columns = [*meta["numeric"], *meta["categorical"], meta["target"]]
    cache = _cache(store, name) / f"{version}-replay.parquet"
    return Champion(
        name=name,
        version=version,
        model=keras_module().saving.load_model(folder / serving.KERAS_FILE),
        meta=meta,
        profile=json.loads((folder / PROFILE_FILE).read_text("utf-8")),
        run_id=mv.run_id or "",
        record=record,
        folder=folder,
        load_rows=lambda: load_replay(
            client, record.run_id, record.replay.artifact, cache, folder, columns
        ),
    )


def load_champion(store: Store, client: MlflowClient, name: str) -> Champion:
    """The version behind `champion`, loaded once per process (a recall loads a past one anew,
    so a version whose files are gone is never promoted)."""
    version = alias_version(client, name, CHAMPION)
    if version is None:
        raise RegistryError(
            f"model {name!r} has no '{CHAMPION}' version in {redact(store.tracking_uri)}; "
            "train one with `driftloop bootstrap --data FILE`."
        )
    return _kept(store, client, name, version)
