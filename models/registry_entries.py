"""What the registry view answers: a registered model, a version, and the reader protocol.

Shared by the readers (`registry_sql`, `registry_rest`, `registry_client`) and those that
read through them (`registry_view.open_view`, `driftloop status`); imports no MLflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from driftloop.core.redact import redact

SQL_BACKENDS = ("sqlite", "postgresql")

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
