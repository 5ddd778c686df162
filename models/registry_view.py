"""Reading the model registry without importing MLflow: what `status` and `history` show.

`import mlflow` alone takes seconds, more than a read-only command may. `open_view` gives a
`RegistryView` of the tracking URI: MLflow's own tables through SQLAlchemy for the SQL stores
driftloop uses (`sqlite:///`, `postgresql://`), MLflow's REST API for an `mlflow server`
(http, https), and the MLflow client itself (imported then) for any other store. Each answers
as `MlflowClient` does for the same store.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from driftloop.core.redact import redact

SQL_BACKENDS = ("sqlite", "postgresql")
HTTP_SCHEMES = ("http://", "https://")
DEFAULT_WORKSPACE = "default"  # MLflow's workspace of every object in a single-tenant store
DELETED_STAGE = "Deleted_Internal"  # MLflow's stage of a version being deleted (not listed)


@dataclass(frozen=True)
class ModelEntry:
    """A registered model: where its aliases point and its tags."""

    name: str
    aliases: dict[str, str]  # alias -> version
    tags: dict[str, str]


@dataclass(frozen=True)
class VersionEntry:
    """A model version: the run that made it (None or "" if none, as MLflow says) and its tags."""

    name: str
    version: str
    run_id: str | None
    tags: dict[str, str]


class RegistryView(Protocol):
    """Read-only answers about registered models, versions and their runs."""

    def model(self, name: str) -> ModelEntry | None:
        """The registered model, or None when it is not registered."""
        ...

    def version(self, name: str, version: str) -> VersionEntry | None:
        """One version of a model, or None when there is no such version."""
        ...

    def run_metrics(self, run_id: str) -> dict[str, float]:
        """The latest value of each metric of a run (MLflow's `run.data.metrics`)."""
        ...

    def run_artifact(self, run_id: str, path: str) -> str | None:
        """The text of one artifact file of a run, or None when it cannot be read."""
        ...


def unreachable_message(uri: str, why: str) -> str:
    """What to say when the tracking store does not answer (as `registry.connect` says it)."""
    return (
        f"cannot reach the MLflow tracking store at {redact(uri)}: {redact(why)}. "
        "Start the tracking server, or fix [tracking] tracking_uri in driftloop.toml."
    )


def sql_backend(uri: str) -> str | None:
    """The SQL store kind of a tracking URI ("sqlite", "postgresql"), None if it is not one."""
    head = uri.split("://", 1)[0] if "://" in uri else ""
    backend = head.split("+", 1)[0]
    return backend if backend in SQL_BACKENDS else None


def open_view(tracking_uri: str) -> RegistryView:
    """A view of the registry at a tracking URI, reading it the lightest way the store allows."""
    if sql_backend(tracking_uri):
        from driftloop.models.registry_sql import SqlView

        return SqlView(tracking_uri)
    if tracking_uri.startswith(HTTP_SCHEMES):
        from driftloop.models.registry_rest import RestView

        return RestView(tracking_uri)
    from driftloop.models.registry_client import ClientView

    return ClientView(tracking_uri)
