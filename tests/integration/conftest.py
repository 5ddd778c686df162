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
from psycopg import sql

from tests.integration.servers import (
    BIN,
    PG_HOST,
    PG_PORT,
    PG_USER,
    Server,
    Servers,
    admin_connect,
    clean_env,
    free_port,
    pg_dsn,
    stop_all,
)


@pytest.fixture(scope="session")
def pg_databases() -> Iterator[tuple[str, str]]:
    """Two fresh, uniquely named databases (MLflow, Prefect), dropped at teardown."""
    tag = f"driftloop_it_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    names = (f"{tag}_mlflow", f"{tag}_prefect")
    created: list[str] = []
    try:
        with admin_connect() as conn:
            for name in names:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                created.append(name)
        yield names
    finally:
        if created:
            with admin_connect() as conn:
                for name in created:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                            sql.Identifier(name)
                        )
                    )


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
        mlflow = Server(
            "mlflow server",
            [
                str(BIN / "mlflow"),
                "server",
                "--host",
                PG_HOST,
                "--port",
                str(mlflow_port),
                "--workers",
                "1",
                "--backend-store-uri",
                pg_dsn(mlflow_db),
                "--artifacts-destination",
                str(artifacts),
            ],
            clean_env(),
            root / "mlflow-server.log",
        )
        started.append(mlflow)
        prefect = Server(
            "prefect server",
            [
                str(BIN / "prefect"),
                "server",
                "start",
                "--host",
                PG_HOST,
                "--port",
                str(prefect_port),
            ],
            clean_env(
                PREFECT_HOME=str(prefect_home),
                PREFECT_API_DATABASE_CONNECTION_URL=(
                    f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{prefect_db}"
                ),
                PREFECT_SERVER_ANALYTICS_ENABLED="false",
                # PREFECT_UI_ENABLED is the legacy alias of this setting.
                PREFECT_SERVER_UI_ENABLED="false",
            ),
            root / "prefect-server.log",
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
