"""The registry view through the MLflow client: for stores the light readers do not know.

Importing this module imports MLflow; `registry_view.open_view` loads it only for tracking
URIs that are neither a SQL store nor an `mlflow server`, and `registry_sql` for artifacts
that are not on a local disk.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftloop.models.registry_entries import ModelEntry, VersionEntry

NOT_FOUND = "RESOURCE_DOES_NOT_EXIST"


def download_text(client: MlflowClient, run_id: str, path: str) -> str | None:
    """The text of a run's artifact file through MLflow, or None when it cannot be read."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            local = client.download_artifacts(run_id, path, tmp)
            return Path(local).read_text("utf-8")
        except (MlflowException, OSError):
            return None


class ClientView:
    """`RegistryView` answers from an `MlflowClient` of the tracking URI."""

    def __init__(self, tracking_uri: str) -> None:
        self.client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)

    def model(self, name: str) -> ModelEntry | None:
        """The registered model, or None when it is not registered."""
        try:
            rm = self.client.get_registered_model(name)
        except MlflowException as err:
            if err.error_code == NOT_FOUND:
                return None
            raise
        aliases = {k: str(v) for k, v in rm.aliases.items()}
        return ModelEntry(rm.name, aliases, dict(rm.tags))

    def version(self, name: str, version: str) -> VersionEntry | None:
        """One version of a model, or None when there is no such version."""
        try:
            mv = self.client.get_model_version(name, version)
        except MlflowException as err:
            if err.error_code == NOT_FOUND:
                return None
            raise
        return VersionEntry(mv.name, str(mv.version), mv.run_id, dict(mv.tags))

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of each metric of a run."""
        return dict(self.client.get_run(run_id).data.metrics)

    def run_artifact(self, run_id: str, path: str) -> str | None:
        """The text of one artifact file of a run, or None when it cannot be read."""
        return download_text(self.client, run_id, path)
