"""The registry view on PostgreSQL and through a real `mlflow server`: MlflowClient's answers."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftloop.app.status import collect_status, format_status
from driftloop.core.errors import RegistryError
from driftloop.models.registry_rest import RestView
from driftloop.models.registry_sql import SqlView
from driftloop.models.registry_view import open_view
from tests.integration.servers import (
    PG_HOST,
    create_databases,
    drop_databases,
    free_port,
    mlflow_server,
    pg_dsn,
    stop_all,
)
from tests.registry_check import (
    assert_view_matches_client,
    bootstrap_and_promote,
    registry_config,
    status_through_mlflow,
)

DB_PREFIX = "dlview_"  # driftloop registry view: databases these tests create and drop


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped (connections and all) afterwards."""
    (name,) = create_databases([f"{DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"])
    try:
        yield name
    finally:
        drop_databases([name])


@pytest.fixture
def mlflow_url(pg_database: str, tmp_path: Path) -> Iterator[str]:
    """`mlflow server` on its own PostgreSQL database, artifacts proxied to a temp folder."""
    artifacts = tmp_path / "server-artifacts"
    artifacts.mkdir()
    port = free_port()
    server = mlflow_server(port, pg_database, artifacts, tmp_path / "mlflow-server.log")
    try:
        url = f"http://{PG_HOST}:{port}"
        server.wait_healthy(f"{url}/health")
        yield url
    finally:
        stop_all([server])


def _check_status(tmp_path: Path, uri: str, kind: type, ledger_url: str = "") -> None:
    """Bootstrap and promote on the store; the view and `status` answer as through MLflow."""
    cfg = registry_config(tmp_path, uri, ledger_url)
    client = bootstrap_and_promote(cfg)
    view = open_view(uri)
    assert isinstance(view, kind)
    assert_view_matches_client(view, client)
    info, before = collect_status(cfg), status_through_mlflow(cfg, client)
    assert json.dumps(info, default=str) == json.dumps(before, default=str)
    assert format_status(info) == format_status(before)


@pytest.mark.integration
def test_the_view_of_a_postgres_store_answers_as_mlflow(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # MLflow's default artifact root of a SQL store is ./mlruns
    _check_status(tmp_path, pg_dsn(pg_database), SqlView)


@pytest.mark.integration
def test_the_view_through_an_mlflow_server_answers_as_mlflow(
    mlflow_url: str, tmp_path: Path
) -> None:
    _check_status(tmp_path, mlflow_url, RestView, f"sqlite:///{tmp_path / 'ledger.db'}")
    # A URI that is not the server's root: its 404 is no MLflow answer, not "not registered".
    with pytest.raises(RegistryError) as err:
        RestView(f"{mlflow_url}/nowhere").model("m")
    assert str(err.value).startswith(
        f"the MLflow tracking server at {mlflow_url}/nowhere answered HTTP 404 to GET "
        "/api/2.0/mlflow/registered-models/get: "
    )
