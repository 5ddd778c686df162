"""The real `driftloop` command against `mlflow server` and `prefect server`, both on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import mlflow
import psycopg
import pytest
from mlflow.tracking import MlflowClient

from tests.helpers import TINY_SETTINGS, Project, make_project
from tests.integration.servers import Servers, clean_env, pg_dsn

DRIFTLOOP = Path(sys.executable).parent / "driftloop"
NUMERIC = ("x1", "x2", "x3")


def _driftloop(*args: str, env: dict[str, str], cwd: Path, timeout: float = 240) -> str:
    """Run the installed console script; fail with its stderr unless it exits 0; return stdout."""
    done = subprocess.run(
        [str(DRIFTLOOP), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, (
        f"driftloop {' '.join(args)} exited {done.returncode}\n--- stdout ---\n{done.stdout}"
        f"\n--- stderr (tail) ---\n{done.stderr[-6000:]}"
    )
    return done.stdout


@contextmanager
def _tracking_uri(uri: str) -> Iterator[None]:
    """Point the global MLflow tracking URI at uri for a while, then put the old one back."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(before)  # type: ignore[arg-type]  # None unsets it


def _prefect_runs_by_flow(api: str) -> dict[str, list[dict[str, object]]]:
    """Every flow run on the Prefect server, grouped by the name of its flow."""
    with httpx.Client(base_url=api, timeout=10.0) as http:
        runs = http.post("/flow_runs/filter", json={})
        runs.raise_for_status()
        flows = http.post("/flows/filter", json={})
        flows.raise_for_status()
    names = {f["id"]: f["name"] for f in flows.json()}
    grouped: dict[str, list[dict[str, object]]] = {}
    for run in runs.json():
        grouped.setdefault(names.get(run["flow_id"], "?"), []).append(run)
    return grouped


def _task_runs(api: str, ids: list[str], timeout: float = 60.0) -> list[dict[str, object]]:
    """These task runs, in this order, once the server recorded them all in a final state (task
    runs reach it as events, a moment after they end)."""
    deadline = time.monotonic() + timeout
    while True:
        with httpx.Client(base_url=api, timeout=10.0) as http:
            found = http.post("/task_runs/filter", json={"task_runs": {"id": {"any_": ids}}})
            found.raise_for_status()
        done = {t["id"]: t for t in found.json() if t["state_type"] in ("COMPLETED", "FAILED")}
        if len(done) == len(ids) or time.monotonic() > deadline:
            return [done[i] for i in ids if i in done]
        time.sleep(0.5)


@pytest.mark.integration
def test_loop_against_mlflow_and_prefect_servers_on_postgres(
    servers: Servers, tmp_path: Path
) -> None:
    project: Project = make_project(
        tmp_path,
        TINY_SETTINGS
        + f'\n[tracking]\ntracking_uri = "{servers.mlflow_url}"\n'
        + f'\n[prefect]\napi_url = "{servers.prefect_api}"\n'
        # The ledger in the database behind the MLflow server, beside MLflow's tables.
        + f'\n[ingest]\nledger_url = "{pg_dsn(servers.mlflow_db)}"\n',
    )
    client_home = tmp_path / "client-prefect-home"
    client_home.mkdir()
    env = clean_env(PREFECT_HOME=str(client_home))
    cfg = str(project.config)

    out = _driftloop(
        "bootstrap", "--config", cfg, "--data", str(project.bootstrap_csv), env=env, cwd=tmp_path
    )
    assert "registered test-model version 1 as champion" in out

    for i, (name, frame) in enumerate(
        [
            ("stable.csv", project.stream.batches[0].frame),
            ("concept.csv", project.stream.batches[10].frame),
        ]
    ):
        os.utime(project.drop(frame, name), ns=(10**9 * (1000 + i),) * 2)

    out = _driftloop("run", "--config", cfg, "--json", env=env, cwd=tmp_path)
    lines = out.splitlines()
    assert len(lines) == 2, f"stdout of `driftloop run --json` is not two JSON lines:\n{out}"
    stable, concept = (json.loads(line) for line in lines)
    assert stable["batch"] == "stable.csv" and concept["batch"] == "concept.csv"
    assert (stable["status"], stable["drift"], stable["action"], stable["champion_version"]) == (
        "processed",
        False,
        "none",
        "1",
    )
    assert (concept["status"], concept["drift"], concept["action"]) == (
        "processed",
        True,
        "promoted",
    )
    assert concept["champion_version"] == "2" and concept["challenger_version"] == "2"
    assert concept["accuracy_after"] > concept["accuracy_before"]

    # Nothing went to the embedded stores: not MLflow's SQLite, not Prefect's ephemeral server.
    work = project.work
    assert not (work / "prefect").exists(), "an embedded Prefect store was created"
    assert not (work / "mlflow.db").exists() and not (work / "mlartifacts").exists()
    assert not list(client_home.rglob("*.db")), "the CLI's PREFECT_HOME got a database"
    assert sorted(p.name for p in (work / "processed").iterdir()) == ["concept.csv", "stable.csv"]

    # MLflow, through the tracking server.
    client = MlflowClient(tracking_uri=servers.mlflow_url)
    aliases = client.get_registered_model("test-model").aliases
    assert {k: str(v) for k, v in aliases.items()} == {"champion": "2", "previous": "1"}
    v2 = client.get_model_version("test-model", "2")
    assert v2.tags["driftloop.parent_version"] == "1"
    assert v2.tags["driftloop.gate"] == "promoted"
    assert v2.run_id == concept["mlflow_run_id"]
    reports = {a.path for a in client.list_artifacts(concept["mlflow_run_id"])}
    assert {"drift_report.json", "drift_report.md"} <= reports
    # Proxied artifacts: the files landed in the server's --artifacts-destination.
    assert any(servers.artifacts.rglob("drift_report.json"))

    frame = project.stream.batches[10].frame.head(100)
    features = frame.drop(columns="label").astype({c: float for c in NUMERIC})
    with _tracking_uri(servers.mlflow_url):
        model = mlflow.pyfunc.load_model("models:/test-model@champion")
        pred = model.predict(features)
    assert list(pred.columns) == ["prediction", "proba_0", "proba_1"]
    assert len(pred) == len(frame)
    assert float((pred["prediction"] == frame["label"]).mean()) > 0.6

    # Prefect, through the server's REST API: the monitor run, with one task run per batch.
    by_flow = _prefect_runs_by_flow(servers.prefect_api)
    states = {name: Counter(r["state_type"] for r in runs) for name, runs in by_flow.items()}
    assert set(states["monitor"]) == {"COMPLETED"} and states["monitor"]["COMPLETED"] >= 1, states
    monitor_ids = {str(r["id"]) for r in by_flow["monitor"]}
    assert stable["flow_run_id"] == concept["flow_run_id"] and stable["flow_run_id"] in monitor_ids
    batches = _task_runs(servers.prefect_api, [stable["task_run_id"], concept["task_run_id"]])
    assert [(t["name"], t["state_type"], t["flow_run_id"]) for t in batches] == [
        ("process-batch/stable.csv", "COMPLETED", stable["flow_run_id"]),
        ("process-batch/concept.csv", "COMPLETED", stable["flow_run_id"]),
    ]

    # The MLflow database in PostgreSQL really holds the runs and the registered model.
    with psycopg.connect(pg_dsn(servers.mlflow_db)) as conn:
        (run_count,) = conn.execute("SELECT count(*) FROM runs").fetchone() or (0,)
        models = [row[0] for row in conn.execute("SELECT name FROM registered_models")]
        versions = conn.execute(
            "SELECT count(*) FROM model_versions WHERE name = %s", ("test-model",)
        ).fetchone()
        ledger = conn.execute("SELECT batch, status FROM driftloop_batches ORDER BY id").fetchall()
    assert run_count >= 3
    assert "test-model" in models
    assert versions == (2,)
    assert ledger == [("stable.csv", "processed"), ("concept.csv", "processed")]
    assert not (work / "ledger.sqlite").exists()


@pytest.mark.integration
def test_the_retrain_slot_creates_its_missing_limit_and_keeps_an_existing_one(
    servers: Servers,
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from driftloop.flows import limit_name, retrain_slot

    with (
        temporary_settings({PREFECT_API_URL: servers.prefect_api}),
        get_client(sync_client=True) as client,
    ):
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=limit_name("slot-kept"), limit=3)
        )
        # As a flow called straight from Python, with no CLI to create the limit first.
        with retrain_slot("slot-new"):
            held = client.read_global_concurrency_limit_by_name(limit_name("slot-new"))
        with retrain_slot("slot-kept"):
            kept = client.read_global_concurrency_limit_by_name(limit_name("slot-kept"))
        after = client.read_global_concurrency_limit_by_name(limit_name("slot-new"))
    assert (held.limit, held.active_slots, after.active_slots) == (1, 1, 0)
    assert (kept.limit, kept.active_slots) == (3, 1)
