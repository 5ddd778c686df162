"""Helpers of the integration tests: local PostgreSQL, server subprocesses, clean environments."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"
PG_ADMIN_DSN = f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/postgres"
BIN = Path(sys.executable).parent
START_TIMEOUT_S = 90.0
# Variables of the test process that must not leak into a server or a CLI under test.
LEAKY_ENV = ("PREFECT_API_URL", "PREFECT_HOME", "MLFLOW_TRACKING_URI", "DRIFTLOOP_CONFIG")
# Databases the tests create start with this (set it per checkout to tell leftovers apart).
DB_PREFIX = os.environ.get("DRIFTLOOP_TEST_DB_PREFIX", "driftloop_it")


def pg_dsn(database: str) -> str:
    """libpq URL of a database on the local PostgreSQL (psycopg 3 / SQLAlchemy `postgresql://`)."""
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without the Prefect/MLflow/driftloop pointers, plus extra."""
    env = {k: v for k, v in os.environ.items() if k not in LEAKY_ENV}
    env.update(extra)
    return env


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((PG_HOST, 0))
        return int(s.getsockname()[1])


def admin_connect() -> psycopg.Connection:
    """An autocommit connection to the local PostgreSQL's admin database; fails the test if down."""
    try:
        return psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({err}). The integration tests "
            "need a running PostgreSQL on 127.0.0.1:5432 with user 'postgres' and trust auth.",
            pytrace=False,
        )


class Server:
    """A server subprocess in its own session, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name, self.argv, self.log = name, argv, log
        with log.open("wb") as fh:
            self.proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=fh,
                stderr=subprocess.STDOUT,
                env=dict(env),
                start_new_session=True,
            )

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's output."""
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError as err:
            return f"(no log: {err})"

    def wait_healthy(self, url: str, timeout: float = START_TIMEOUT_S) -> None:
        """Poll url until it answers 200; fail with the log tail if the server dies or is slow."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(
                    f"{self.name} exited with code {self.proc.returncode} before {url} answered."
                    f"\ncommand: {' '.join(self.argv)}\n--- log tail ---\n{self.log_tail()}",
                    pytrace=False,
                )
            try:
                resp = httpx.get(url, timeout=2.0)
                if resp.status_code == 200:
                    return
                last = f"HTTP {resp.status_code}"
            except httpx.HTTPError as err:
                last = f"{type(err).__name__}: {err}"
            time.sleep(0.5)
        pytest.fail(
            f"{self.name} did not answer 200 on {url} within {timeout:.0f} s (last: {last})."
            f"\ncommand: {' '.join(self.argv)}\n--- log tail ---\n{self.log_tail()}",
            pytrace=False,
        )

    def terminate(self) -> None:
        """Send SIGTERM to the whole process group (the server and its workers)."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)

    def kill(self, deadline: float) -> None:
        """Wait for the group leader until deadline (monotonic), then SIGKILL what is left."""
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        # Children may outlive the leader: kill whatever is left in the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


def stop_all(servers: list[Server], grace: float = 5.0) -> None:
    """SIGTERM every server at once, SIGKILL each process group still there after grace."""
    for server in servers:
        server.terminate()
    deadline = time.monotonic() + grace
    for server in servers:
        server.kill(deadline)


@dataclass(frozen=True)
class Servers:
    """Where the running servers listen and which databases back them."""

    mlflow_url: str
    prefect_api: str
    mlflow_db: str
    prefect_db: str
    artifacts: Path
    root: Path


def create_databases(names: list[str]) -> list[str]:
    """Create each database; return those created (drop them with drop_databases)."""
    created: list[str] = []
    try:
        with admin_connect() as conn:
            for name in names:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
                created.append(name)
    except BaseException:
        drop_databases(created)
        raise
    return created


def drop_databases(names: list[str]) -> None:
    """Drop each database, closing whatever still holds a connection to it."""
    if not names:
        return
    with admin_connect() as conn:
        for name in names:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def mlflow_server(port: int, database: str, artifacts: Path, log: Path) -> Server:
    """Start `mlflow server` (one worker) on a PostgreSQL store with proxied artifacts."""
    return Server(
        "mlflow server",
        [
            str(BIN / "mlflow"),
            "server",
            "--host",
            PG_HOST,
            "--port",
            str(port),
            "--workers",
            "1",
            "--backend-store-uri",
            pg_dsn(database),
            "--artifacts-destination",
            str(artifacts),
        ],
        clean_env(),
        log,
    )


def prefect_server(port: int, database: str, home: Path, log: Path, **env: str) -> Server:
    """Start `prefect server start` on PostgreSQL, offline, without its UI."""
    return Server(
        "prefect server",
        [str(BIN / "prefect"), "server", "start", "--host", PG_HOST, "--port", str(port)],
        clean_env(
            PREFECT_HOME=str(home),
            PREFECT_API_DATABASE_CONNECTION_URL=(
                f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"
            ),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            # PREFECT_UI_ENABLED is the legacy alias of this setting.
            PREFECT_SERVER_UI_ENABLED="false",
            **env,
        ),
        log,
    )
