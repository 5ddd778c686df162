"""The registry view of a SQL tracking store: MLflow's own tables, read with SQLAlchemy.

The queries follow MLflow's schema (`mlflow/store/model_registry/dbmodels/models.py`,
`mlflow/store/tracking/dbmodels/models.py`) and filter as MLflow's SQLAlchemy stores do: the
default workspace (a single-tenant store), versions not being deleted, the latest value of
each metric (`latest_metrics`). A store whose database has no MLflow tables yet (or a SQLite
file that does not exist) holds no model. An artifact on a local disk (a path or a `file:`
URI) is read directly; anywhere else (a server's `mlflow-artifacts:`, a bucket) through MLflow.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from driftloop.core.errors import TrackingUnreachable
from driftloop.models.registry_entries import (
    DEFAULT_WORKSPACE,
    DELETED_STAGE,
    ModelEntry,
    VersionEntry,
    unreachable_message,
)

_MODEL = "SELECT name FROM registered_models WHERE workspace = :ws AND name = :name"
_ALIASES = (
    "SELECT alias, version FROM registered_model_aliases WHERE workspace = :ws AND name = :name"
)
_MODEL_TAGS = "SELECT key, value FROM registered_model_tags WHERE workspace = :ws AND name = :name"
_VERSION = (
    "SELECT run_id FROM model_versions WHERE workspace = :ws AND name = :name "
    "AND version = :version AND current_stage != :deleted"
)
_VERSION_TAGS = (
    "SELECT key, value FROM model_version_tags "
    "WHERE workspace = :ws AND name = :name AND version = :version"
)
_METRICS = "SELECT key, value, is_nan FROM latest_metrics WHERE run_uuid = :run"
_ARTIFACT_URI = "SELECT artifact_uri FROM runs WHERE run_uuid = :run"


def local_artifact(artifact_uri: str, path: str) -> Path | None:
    """The file of a run artifact when the run's artifacts are on a local disk, else None."""
    parsed = urlparse(artifact_uri)
    if parsed.scheme == "file":
        root = Path(url2pathname(unquote(parsed.path)))
    elif parsed.scheme == "":
        root = Path(artifact_uri)
    else:
        return None
    return root / path


class SqlView:
    """`RegistryView` answers read from the tables of a SQLite or PostgreSQL tracking store."""

    def __init__(self, tracking_uri: str) -> None:
        self.uri = tracking_uri
        self._engine: Engine | None = None
        self._checked = False

    def _rows(self, query: str, **params: Any) -> list[sa.Row[Any]]:
        """The rows of one query; [] when the store has no MLflow tables yet."""
        engine = self._ready_engine()
        if engine is None:
            return []
        try:
            with engine.connect() as con:
                return list(con.execute(sa.text(query), {"ws": DEFAULT_WORKSPACE, **params}))
        except sa.exc.OperationalError as err:
            raise TrackingUnreachable(unreachable_message(self.uri, str(err.orig))) from None

    def _ready_engine(self) -> Engine | None:
        """The store's engine if its database holds MLflow's registry tables (asked once)."""
        if not self._checked:
            url = sa.engine.make_url(self.uri)
            if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
                return None  # no file yet: reading must not create one (asked again next time)
            engine = sa.create_engine(url)
            try:
                ready = sa.inspect(engine).has_table("registered_models")
            except sa.exc.OperationalError as err:
                raise TrackingUnreachable(unreachable_message(self.uri, str(err.orig))) from None
            self._engine, self._checked = (engine if ready else None), True
        return self._engine

    def model(self, name: str) -> ModelEntry | None:
        """The registered model, or None when it is not registered."""
        if not self._rows(_MODEL, name=name):
            return None
        aliases = {r.alias: str(r.version) for r in self._rows(_ALIASES, name=name)}
        tags = {r.key: r.value for r in self._rows(_MODEL_TAGS, name=name)}
        return ModelEntry(name, aliases, tags)

    def version(self, name: str, version: str) -> VersionEntry | None:
        """One version of a model, or None when there is no such version."""
        if not version.isdigit():
            return None
        keys = {"name": name, "version": int(version)}
        found = self._rows(_VERSION, deleted=DELETED_STAGE, **keys)
        if not found:
            return None
        tags = {r.key: r.value for r in self._rows(_VERSION_TAGS, **keys)}
        return VersionEntry(name, version, found[0].run_id, tags)

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of each metric of a run (NaN where MLflow stored one)."""
        rows = self._rows(_METRICS, run=run_id)
        return {r.key: math.nan if r.is_nan else float(r.value) for r in rows}

    def run_artifact(self, run_id: str, path: str) -> str | None:
        """The text of one artifact file of a run, or None when it cannot be read."""
        found = self._rows(_ARTIFACT_URI, run=run_id)
        if not found or not found[0].artifact_uri:
            return None
        local = local_artifact(found[0].artifact_uri, path)
        if local is None:
            from mlflow.tracking import MlflowClient

            from driftloop.models.registry_client import download_text

            return download_text(MlflowClient(tracking_uri=self.uri), run_id, path)
        try:
            return local.read_text("utf-8")
        except OSError:
            return None
