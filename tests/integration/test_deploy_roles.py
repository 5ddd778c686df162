"""The deploy's least-privilege pieces against real servers: the database roles that
deploy/postgres/init-databases.sh creates, and the worker's MLflow user that
deploy/mlflow/create_worker_user.py creates on a basic-auth `mlflow server`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from driftloop.ingest import Ledger
from tests.integration.servers import (
    BIN,
    PG_HOST,
    PG_PORT,
    Server,
    admin_connect,
    clean_env,
    free_port,
    stop_all,
)

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NAMES = ("mlflow", "prefect", "driftloop_worker", "driftloop")
PASSWORD = "it's a 'quoted' pw; DROP TABLE x; --"  # quoting must hold


@pytest.fixture
def renamed_script(tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """init-databases.sh with every role and database renamed to a unique name."""
    tag = f"it{uuid.uuid4().hex[:8]}"
    names = {n: f"{tag}_{n}" for n in NAMES}
    text = (DEPLOY / "postgres" / "init-databases.sh").read_text(encoding="utf-8")
    pattern = re.compile(r"\b(CREATE ROLE|CREATE DATABASE|OWNER|DATABASE|,) (\w+)")
    text = pattern.sub(lambda m: f"{m.group(1)} {names.get(m.group(2), m.group(2))}", text)
    script = tmp_path / "init.sh"
    script.write_text(text, encoding="utf-8")
    try:
        yield script, names
    finally:
        with admin_connect() as conn:
            for db in (names["mlflow"], names["prefect"], names["driftloop"]):
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db))
                )
            for role in (names["mlflow"], names["prefect"], names["driftloop_worker"]):
                conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def test_init_script_gives_each_service_its_role_and_the_worker_only_its_ledger(
    renamed_script: tuple[Path, dict[str, str]],
) -> None:
    script, names = renamed_script
    env = clean_env(
        POSTGRES_USER="postgres",
        PGHOST=PG_HOST,
        PGPORT=str(PG_PORT),
        MLFLOW_DB_PASSWORD=PASSWORD,
        PREFECT_DB_PASSWORD=PASSWORD + "2",
        WORKER_DB_PASSWORD=PASSWORD + "3",
    )
    done = subprocess.run(["sh", str(script)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    worker, ledger_db = names["driftloop_worker"], names["driftloop"]
    with admin_connect() as conn:
        rows = conn.execute(
            "SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolpassword IS NOT NULL "
            "FROM pg_authid WHERE rolname = ANY(%s) ORDER BY rolname",
            ([names["mlflow"], names["prefect"], worker],),
        ).fetchall()
        assert [r[1:] for r in rows] == [(False, False, False, True)] * 3
        can = {
            db: conn.execute(
                "SELECT has_database_privilege(%s, %s, 'CONNECT')", (worker, db)
            ).fetchone()[0]  # type: ignore[index]
            for db in (names["mlflow"], names["prefect"], ledger_db)
        }
    assert can == {names["mlflow"]: False, names["prefect"]: False, ledger_db: True}
    ledger = Ledger(f"postgresql://{worker}@{PG_HOST}:{PG_PORT}/{ledger_db}")
    assert ledger.recent() == []  # the worker's role created the ledger's tables itself


def test_the_worker_mlflow_user_is_created_once_and_is_no_admin(tmp_path: Path) -> None:
    ini = (DEPLOY / "mlflow" / "basic_auth.ini").read_text(encoding="utf-8")
    ini = ini.replace("sqlite:////mlflow-auth/basic_auth.db", f"sqlite:///{tmp_path}/auth.db")
    (tmp_path / "auth.ini").write_text(ini, encoding="utf-8")
    port = free_port()
    admin = {"MLFLOW_TRACKING_USERNAME": "admin", "MLFLOW_TRACKING_PASSWORD": "admin-pw-0123456"}
    server = Server(
        "mlflow server",
        [
            str(BIN / "mlflow"),
            *("server", "--host", PG_HOST, "--port", str(port), "--workers", "1"),
            *("--app-name", "basic-auth", "--artifacts-destination", str(tmp_path / "art")),
        ],
        clean_env(
            MLFLOW_BACKEND_STORE_URI=f"sqlite:///{tmp_path}/mlflow.db",  # as deploy/ passes it
            MLFLOW_AUTH_CONFIG_PATH=str(tmp_path / "auth.ini"),
            MLFLOW_AUTH_ADMIN_USERNAME="admin",
            MLFLOW_AUTH_ADMIN_PASSWORD=admin["MLFLOW_TRACKING_PASSWORD"],
            MLFLOW_FLASK_SERVER_SECRET_KEY="test-only-key",
        ),
        tmp_path / "mlflow.log",
    )
    uri = f"http://{PG_HOST}:{port}"
    worker = {
        "MLFLOW_WORKER_USERNAME": "driftloop-worker",
        "MLFLOW_WORKER_PASSWORD": "wk-pw-0123456",
    }
    try:
        server.wait_healthy(f"{uri}/health")
        env = clean_env(MLFLOW_TRACKING_URI=uri, **admin, **worker)
        script = [sys.executable, str(DEPLOY / "mlflow" / "create_worker_user.py")]
        outs = [subprocess.run(script, env=env, capture_output=True, text=True) for _ in "ab"]
        assert [(o.returncode, o.stdout) for o in outs] == [
            (0, "created MLflow user 'driftloop-worker' (not an admin)\n"),
            (0, "MLflow user 'driftloop-worker' exists; nothing to do\n"),
        ], [o.stderr[-800:] for o in outs]
        as_worker = clean_env(
            MLFLOW_TRACKING_URI=uri,
            MLFLOW_TRACKING_USERNAME=worker["MLFLOW_WORKER_USERNAME"],
            MLFLOW_TRACKING_PASSWORD=worker["MLFLOW_WORKER_PASSWORD"],
        )
        probe = subprocess.run(
            [sys.executable, "-c", _AS_WORKER], env=as_worker, capture_output=True, text=True
        )
        assert probe.returncode == 0, probe.stderr[-1500:]
        assert probe.stdout.splitlines() == [
            "experiment created",
            "model created",
            "create_user refused",
            "is_admin False",
        ]
    finally:
        stop_all([server])
    assert os.path.exists(tmp_path / "auth.db")


_AS_WORKER = """
import os
from mlflow import MlflowClient
from mlflow.server.auth.client import AuthServiceClient
client = MlflowClient()
client.create_experiment("driftloop")
print("experiment created")
client.create_registered_model("driftloop-model")
print("model created")
auth = AuthServiceClient(os.environ["MLFLOW_TRACKING_URI"])
try:
    auth.create_user("intruder", "intruder-pw-0123")
    print("create_user ALLOWED")
except Exception:
    print("create_user refused")
print("is_admin", auth.get_user(os.environ["MLFLOW_TRACKING_USERNAME"]).is_admin)
"""
