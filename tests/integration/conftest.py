"""Real servers for integration tests: PostgreSQL databases, `mlflow server`, `prefect server`.

PostgreSQL must already run at 127.0.0.1:5432 (user postgres, trust auth). Everything these
fixtures start is stopped at teardown: server process groups killed, temporary folders removed,
databases dropped. A missing server fails the test with the reason; nothing is skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.servers import (
    DB_PREFIX,
    PG_HOST,
    Server,
    Servers,
    create_databases,
    drop_databases,
    free_port,
    mlflow_server,
    prefect_server,
    stop_all,
)


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[tuple[str, str]]:
    """Two fresh, uniquely named databases (MLflow, Prefect), dropped at teardown."""
    tag = f"{DB_PREFIX}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    names = [f"{tag}_mlflow", f"{tag}_prefect"]
    created: list[str] = []
    try:
        created = create_databases(names)
        yield names[0], names[1]
    finally:
        drop_databases(created)


@pytest.fixture(scope="session")
def servers(pg_databases: tuple[str, str]) -> Iterator[Servers]:
    """`mlflow server` and `prefect server start` on free ports, each on its own database.

    Both are started first and then waited for, so their start-up times overlap.
    """
    mlflow_db, prefect_db = pg_databases
    root = Path(tempfile.mkdtemp(prefix="driftloop-it-servers-"))
    artifacts = root / "artifacts"
    artifacts.mkdir()
    prefect_home = root / "prefect-server-home"
    prefect_home.mkdir()
    started: list[Server] = []
    try:
        mlflow_port, prefect_port = free_port(), free_port()
        mlflow = mlflow_server(mlflow_port, mlflow_db, artifacts, root / "mlflow-server.log")
        started.append(mlflow)
        prefect = prefect_server(
            prefect_port, prefect_db, prefect_home, root / "prefect-server.log"
        )
        started.append(prefect)
        mlflow_url = f"http://{PG_HOST}:{mlflow_port}"
        prefect_api = f"http://{PG_HOST}:{prefect_port}/api"
        mlflow.wait_healthy(f"{mlflow_url}/health")
        prefect.wait_healthy(f"{prefect_api}/health")
        yield Servers(mlflow_url, prefect_api, mlflow_db, prefect_db, artifacts, root)
    finally:
        stop_all(started)
        shutil.rmtree(root, ignore_errors=True)
