"""Reading the model registry without importing MLflow: what `status` and `history` show.

`import mlflow` alone takes seconds, more than a read-only command may. `open_view` gives a
`RegistryView` of the tracking URI: MLflow's own tables through SQLAlchemy for the SQL stores
driftloop uses (`sqlite:///`, `postgresql://`), MLflow's REST API for an `mlflow server`
(http, https), and the MLflow client itself (imported then) for any other store. Each answers
as `MlflowClient` does for the same store.
"""

from __future__ import annotations

from driftloop.models.registry_entries import RegistryView, sql_backend

HTTP_SCHEMES = ("http://", "https://")


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
