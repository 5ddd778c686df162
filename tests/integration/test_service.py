"""`driftloop serve` against real `prefect server` and `mlflow server` processes on PostgreSQL.

One served model for the whole module, exercised in order: a scheduled monitor run, an MLflow
outage in the middle of a run, a drift event that starts a retrain, and five concurrent
`prefect deployment run` retrains. Everything started is stopped and dropped at teardown.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from mlflow.tracking import MlflowClient

from driftloop.core.config import load_config
from driftloop.flows.publish import KINDS, artifact_key
from driftloop.ingest import LedgerEntry, open_ledger
from driftloop.models.version_record import read_record
from tests.helpers import TINY_SETTINGS, Project, make_project
from tests.integration.servers import (
    BIN,
    DB_PREFIX,
    PG_HOST,
    Server,
    clean_env,
    create_databases,
    drop_databases,
    free_port,
    mlflow_server,
    pg_dsn,
    prefect_server,
    stop_all,
)

MODEL = "test-model"
T = TypeVar("T")
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@dataclass
class Service:
    """The running servers, the served project, and how to reach them."""

    project: Project
    mlflow_url: str
    prefect_api: str
    mlflow_port: int
    mlflow_db: str
    artifacts: Path
    root: Path
    env: dict[str, str]
    servers: list[Server] = field(default_factory=list)

    @property
    def mlflow(self) -> MlflowClient:
        """A client of the tracking server."""
        return MlflowClient(tracking_uri=self.mlflow_url)

    def champion(self) -> str:
        """The version the champion alias points at now."""
        return str(self.mlflow.get_model_version_by_alias(MODEL, "champion").version)

    def ledger(self, batch: str) -> LedgerEntry | None:
        """The recorded outcome of a batch, by file name."""
        cfg = load_config(self.project.config)
        found = [e for e in open_ledger(cfg).recent(limit=100) if e.batch == batch]
        return found[0] if found else None

    def set_retrain(self, mode: str) -> None:
        """Switch `[prefect] retrain`; every served run reads the config file afresh."""
        text = self.project.config.read_text(encoding="utf-8")
        for old in ('retrain = "inline"', 'retrain = "event"'):
            text = text.replace(old, f'retrain = "{mode}"')
        self.project.config.write_text(text, encoding="utf-8")

    def logs(self) -> str:
        """The tails of every server's log, for failure messages."""
        return "\n".join(f"--- {s.name} ---\n{s.log_tail(3000)}" for s in self.servers)


def _wait(what: str, probe: Callable[[], T | None], timeout: float, svc: Service) -> T:
    """Poll probe until it returns something truthy; fail naming what did not happen."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = probe()
        if got:
            return got
        time.sleep(0.5)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s\n{svc.logs()}", pytrace=False)


def _api(svc: Service, method: str, path: str, body: Any = None) -> Any:
    with httpx.Client(base_url=svc.prefect_api, timeout=15.0) as http:
        resp = http.request(method, path, json=body)
    resp.raise_for_status()
    return resp.json() if resp.content else None


def _deployment(svc: Service, flow: str) -> dict[str, Any]:
    return dict(_api(svc, "GET", f"/deployments/name/{flow}/{MODEL}"))


def _runs(svc: Service, flow: str) -> list[dict[str, Any]]:
    dep = _deployment(svc, flow)["id"]
    body = {"flow_runs": {"deployment_id": {"any_": [dep]}}, "sort": "EXPECTED_START_TIME_ASC"}
    return list(_api(svc, "POST", "/flow_runs/filter", body))


def _new_runs(svc: Service, flow: str, known: set[str]) -> list[dict[str, Any]]:
    return [r for r in _runs(svc, flow) if r["id"] not in known]


def _deployment_run(svc: Service, flow: str, *params: str) -> subprocess.Popen[str]:
    """Start the real `prefect deployment run FLOW/MODEL --param ...` command."""
    argv = [str(BIN / "prefect"), "deployment", "run", f"{flow}/{MODEL}"]
    for p in params:
        argv += ["--param", p]
    return subprocess.Popen(
        argv, env=svc.env, cwd=svc.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def _finished(proc: subprocess.Popen[str]) -> None:
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, f"{' '.join(map(str, proc.args))} failed:\n{out}"  # type: ignore[arg-type]


def _when(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _settled(svc: Service, flow: str, runs: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """The runs again, if every one of them has reached a terminal state."""
    ids = {r["id"] for r in runs}
    now = [r for r in _runs(svc, flow) if r["id"] in ids]
    return now if now and all(r["state_type"] in TERMINAL for r in now) else None


def _ended_runs(
    svc: Service, flow: str, known: set[str], what: str, timeout: float
) -> list[dict[str, Any]]:
    """Wait until the runs of `flow` not in `known` have all ended; return them."""
    return _wait(what, lambda: _settled(svc, flow, _new_runs(svc, flow, known)), timeout, svc)


@pytest.fixture(scope="module")
def svc() -> Iterator[Service]:
    """Servers on fresh databases, a bootstrapped model, and `driftloop serve` running."""
    root = Path(tempfile.mkdtemp(prefix="driftloop-it-service-"))
    tag = f"{DB_PREFIX}_svc_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    created: list[str] = []
    service: Service | None = None
    try:
        created = create_databases([f"{tag}_mlflow", f"{tag}_prefect"])
        artifacts, home = root / "artifacts", root / "prefect-server-home"
        artifacts.mkdir()
        home.mkdir()
        mlflow_port, prefect_port = free_port(), free_port()
        mlflow_url = f"http://{PG_HOST}:{mlflow_port}"
        prefect_api = f"http://{PG_HOST}:{prefect_port}/api"
        client_home = root / "client-prefect-home"
        client_home.mkdir()
        env = clean_env(
            PREFECT_HOME=str(client_home),
            PREFECT_API_URL=prefect_api,
            MLFLOW_HTTP_REQUEST_MAX_RETRIES="1",
            MLFLOW_HTTP_REQUEST_TIMEOUT="10",
            # The environment layer of the config: shorter fine-tunes for the test, and no
            # cool-down: these tests drop drifted batches one after another, each to retrain.
            DRIFTLOOP_FINETUNE__EPOCHS="5",
            DRIFTLOOP_DRIFT__RETRAIN_COOLDOWN="0",
        )
        project = make_project(
            root,
            TINY_SETTINGS
            + f'\n[tracking]\ntracking_uri = "{mlflow_url}"\n'
            + f'\n[prefect]\napi_url = "{prefect_api}"\nmonitor_interval_seconds = 10.0\n'
            + 'retrain = "inline"\npoll_seconds = 1.0\nio_retries = 2\n'
            + "io_retry_delay_seconds = 0.5\n"
            + f'\n[ingest]\nledger_url = "{pg_dsn(f"{tag}_mlflow")}"\n',
        )
        service = Service(
            project, mlflow_url, prefect_api, mlflow_port, created[0], artifacts, root, env
        )
        service.servers.append(mlflow_server(mlflow_port, created[0], artifacts, root / "m.log"))
        service.servers.append(
            prefect_server(
                prefect_port,
                created[1],
                home,
                root / "p.log",
                PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS="5",
            )
        )
        service.servers[0].wait_healthy(f"{mlflow_url}/health")
        service.servers[1].wait_healthy(f"{prefect_api}/health")
        cfg = str(project.config)
        boot = subprocess.run(
            [
                str(BIN / "driftloop"),
                "bootstrap",
                "--config",
                cfg,
                "--data",
                str(project.bootstrap_csv),
            ],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert boot.returncode == 0, boot.stderr[-4000:]
        # Waiting before the service starts: the first scheduled monitor run must take it.
        project.drop(project.stream.batches[1].frame, "stable.csv")
        serve = Server(
            "driftloop serve",
            [str(BIN / "driftloop"), "serve", "--config", cfg],
            env,
            root / "serve.log",
        )
        service.servers.insert(0, serve)  # stopped first: before the servers it talks to
        _wait(
            "both deployments registered by driftloop serve",
            lambda: all(
                httpx.get(f"{prefect_api}/deployments/name/{f}/{MODEL}").status_code == 200
                for f in ("monitor", "retrain")
            ),
            120,
            service,
        )
        yield service
    finally:
        if service is not None:
            stop_all(service.servers, grace=10.0)
        drop_databases(created)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.integration
def test_a_scheduled_monitor_run_processes_the_waiting_batch(svc: Service) -> None:
    monitor = _deployment(svc, "monitor")
    assert monitor["parameters"] == {"config_path": str(svc.project.config)}
    ((schedule),) = monitor["schedules"]
    assert schedule["schedule"]["interval"] == 10.0 and schedule["active"]

    def done() -> dict[str, Any] | None:
        runs = [r for r in _runs(svc, "monitor") if r["auto_scheduled"]]
        return next((r for r in runs if r["state_type"] == "COMPLETED"), None)

    run = _wait("a completed scheduled monitor run", done, 150, svc)
    entry = svc.ledger("stable.csv")
    assert entry is not None and entry.status == "processed", entry
    assert entry.result["drift"] is False and entry.result["action"] == "none"
    assert (svc.project.work / "processed" / "stable.csv").is_file()
    assert not (svc.project.work / "landing" / "stable.csv").exists()
    # Its report is published on the server: one markdown artifact per batch, keyed per model
    # (the history of the key is the sequence of batches), with the per-feature table and the
    # MLflow run's link in it.
    (key,) = (artifact_key(MODEL, k) for k in KINDS)
    arts = _api(svc, "POST", "/artifacts/filter", {"artifacts": {"key": {"any_": [key]}}})
    (report,) = [a for a in arts if "stable.csv" in (a["description"] or "")]
    assert report["key"] == key and report["type"] == "markdown"
    assert "| feature | test | statistic | p-value | effect size | drifted |" in report["data"]
    assert entry.result["mlflow_run_id"] in report["data"]
    assert svc.mlflow_url in report["data"]
    assert run["parameters"] == {"config_path": str(svc.project.config)}

    # Pause the schedule so the later tests decide when monitor runs.
    _api(
        svc,
        "PATCH",
        f"/deployments/{monitor['id']}/schedules/{schedule['id']}",
        {"active": False},
    )
    # Runs the scheduler made before the pause and that have not started are cancelled; a
    # run already going is left to finish.
    for r in _runs(svc, "monitor"):
        if r["state_type"] == "SCHEDULED":
            state = {"type": "CANCELLED", "message": "schedule paused by the test"}
            _api(svc, "POST", f"/flow_runs/{r['id']}/set_state", {"state": state, "force": True})

    def settled() -> bool | None:
        left = [r for r in _runs(svc, "monitor") if r["state_type"] not in TERMINAL]
        return not left or None

    _wait("the last scheduled monitor runs to end", settled, 180, svc)


def _monitor_now(svc: Service, what: str) -> dict[str, Any]:
    """Start the monitor deployment by hand and return its run once it has ended."""
    known = {r["id"] for r in _runs(svc, "monitor")}
    _finished(_deployment_run(svc, "monitor"))
    (run,) = _ended_runs(svc, "monitor", known, what, 240)
    return run


@pytest.mark.integration
def test_mlflow_down_mid_run_leaves_the_batch_waiting_and_the_champion(svc: Service) -> None:
    svc.set_retrain("inline")
    before = svc.champion()
    known = {r["id"] for r in _runs(svc, "monitor")}
    svc.project.drop(svc.project.stream.batches[4].frame, "shift.csv")  # covariate shift
    _finished(_deployment_run(svc, "monitor"))

    def batch_run_started() -> bool:
        runs = svc.mlflow.search_experiments(filter_string="name = 'driftloop'")
        ids = [e.experiment_id for e in runs]
        found = svc.mlflow.search_runs(ids, filter_string="attributes.run_name = 'shift.csv'")
        return bool(found)

    # The batch is admitted, tested and its MLflow run open: the challenger is next. Stop MLflow.
    _wait("the MLflow run of shift.csv", batch_run_started, 150, svc)
    mlflow = svc.servers[1]
    assert mlflow.name == "mlflow server"
    stop_all([mlflow])
    (run,) = _ended_runs(svc, "monitor", known, "the monitor run to end", 150)
    assert run["state_type"] == "FAILED", run["state"]
    message = run["state"]["message"]
    assert "cannot reach the MLflow tracking server" in message and "shift.csv" in message
    assert (svc.project.work / "landing" / "shift.csv").is_file()
    assert not list((svc.project.work / "quarantine").iterdir())
    entry = svc.ledger("shift.csv")
    assert entry is None, entry  # not processed, not quarantined

    # Restart MLflow on the same port and database: the champion never moved.
    restarted = mlflow_server(svc.mlflow_port, svc.mlflow_db, svc.artifacts, svc.root / "m2.log")
    svc.servers[1] = restarted
    restarted.wait_healthy(f"{svc.mlflow_url}/health")
    assert svc.champion() == before
    run = _monitor_now(svc, "the monitor run after the restart")
    assert run["state_type"] == "COMPLETED", run["state"]
    entry = svc.ledger("shift.csv")
    assert entry is not None and entry.status == "processed"
    # The outage was a fault of our store, not the batch's: its attempt was not counted.
    assert entry.attempts == 1 and entry.result["drift"] is True
    assert entry.result["action"] in ("promoted", "rejected")
    assert svc.champion() == entry.result["champion_version"]


@pytest.mark.integration
def test_a_drift_event_triggers_a_retrain_run(svc: Service) -> None:
    svc.set_retrain("event")
    before = svc.champion()
    known_retrains = {r["id"] for r in _runs(svc, "retrain")}
    svc.project.drop(svc.project.stream.batches[10].frame, "concept.csv")
    run = _monitor_now(svc, "the monitor run")
    assert run["state_type"] == "COMPLETED", run["state"]
    entry = svc.ledger("concept.csv")
    assert entry is not None and entry.result["action"] == "drift-event", entry
    assert entry.result["champion_version"] == before  # no inline retrain

    what = "a retrain run started by the drift event"
    (retrain,) = _ended_runs(svc, "retrain", known_retrains, what, 240)
    assert retrain["state_type"] == "COMPLETED", retrain["state"]
    assert retrain["parameters"]["batch_sha256"] == entry.sha256
    assert retrain["parameters"]["trigger"] == "drift-event"
    assert retrain["parameters"]["config_path"] == str(svc.project.config)
    assert retrain["created_by"]["type"] == "AUTOMATION", retrain["created_by"]
    versions = svc.mlflow.search_model_versions(f"name = '{MODEL}'")
    made = [v for v in versions if v.tags.get("driftloop.trigger") == "drift-event"]
    assert len(made) == 1
    assert read_record(svc.mlflow, made[0]).lineage.batch_sha256 == entry.sha256
    assert made[0].tags["driftloop.parent_version"] == before


@pytest.mark.integration
def test_five_concurrent_retrains_run_one_at_a_time(svc: Service) -> None:
    known = {r["id"] for r in _runs(svc, "retrain")}
    start = svc.champion()
    before = {v.version for v in svc.mlflow.search_model_versions(f"name = '{MODEL}'")}
    # One trigger through the real `prefect deployment run` command, four through the REST
    # API (as the UI or another service would), all at once.
    proc = _deployment_run(svc, "retrain", "force=true", "from_scratch=true")
    dep = _deployment(svc, "retrain")["id"]
    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(
                lambda _: _api(
                    svc,
                    "POST",
                    f"/deployments/{dep}/create_flow_run",
                    {"parameters": {"force": True}},
                ),
                range(4),
            )
        )
    _finished(proc)

    def all_done() -> list[dict[str, Any]] | None:
        new = _new_runs(svc, "retrain", known)
        return _settled(svc, "retrain", new) if len(new) == 5 else None

    runs = _wait("five retrain runs to end", all_done, 420, svc)
    assert [r["state_type"] for r in runs] == ["COMPLETED"] * 5, [r["state"] for r in runs]
    assert sum(r["parameters"].get("from_scratch", False) for r in runs) == 1

    # One at a time: each run's section from loading the champion to promotion is disjoint.
    tasks = _api(
        svc, "POST", "/task_runs/filter", {"flow_runs": {"id": {"any_": [r["id"] for r in runs]}}}
    )
    spans: dict[str, list[datetime]] = {}
    for t in tasks:
        if t["name"].startswith(("load-champion", "challenge")):
            spans.setdefault(t["flow_run_id"], []).extend(
                [_when(t["start_time"]), _when(t["end_time"])]
            )
    windows = sorted((min(s), max(s)) for s in spans.values())
    assert len(windows) == 5
    for (_, end), (begin, _) in itertools.pairwise(windows):
        assert end <= begin, f"two retrains overlapped: {windows}"

    # A consistent alias: each challenger was made from the champion the one before left.
    made = sorted(
        (
            v
            for v in svc.mlflow.search_model_versions(f"name = '{MODEL}'")
            if v.version not in before
        ),
        key=lambda v: int(v.version),
    )
    assert len(made) == 5
    asked = [v for v in made if svc.mlflow.get_run(v.run_id).data.params["from_scratch"] == "True"]
    assert len(asked) == 1 and asked[0].tags["driftloop.kind"] == "scratch"
    champion = start
    for v in made:
        assert v.tags["driftloop.parent_version"] == champion, [
            (x.version, x.tags["driftloop.parent_version"], x.tags["driftloop.gate"]) for x in made
        ]
        if v.tags["driftloop.gate"] == "promoted":
            champion = v.version
    assert svc.champion() == champion


@pytest.mark.integration
def test_dask_task_runner_spreads_the_drift_tests(
    svc: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same report as in-process, with every feature test a task run on a Dask cluster."""
    from prefect import flow
    from prefect.runtime import flow_run
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from driftloop import drift
    from driftloop.flows.dask import dask_task_runner, drift_executor

    monkeypatch.setenv("DRIFTLOOP_PREFECT__TASK_RUNNER", "dask")
    monkeypatch.setenv("DRIFTLOOP_PREFECT__DASK_MIN_ROWS", "100")
    cfg = load_config(svc.project.config)
    stream = svc.project.stream
    profile = drift.build_profile(stream.bootstrap, cfg.features.numeric, cfg.features.categorical)
    batch = stream.batches[4].frame

    @flow(name="dask-drift-check")
    def check() -> tuple[drift.DriftReport, str]:
        executor = drift_executor(cfg, len(batch))
        assert executor is not None
        return drift.detect_drift(profile, batch, executor=executor), str(flow_run.get_id())

    runner = dask_task_runner(cfg)
    assert type(runner).__name__ == "DaskTaskRunner"
    with temporary_settings({PREFECT_API_URL: svc.prefect_api}):
        report, run_id = check.with_options(task_runner=runner)()
    local = drift.detect_drift(profile, batch)
    assert report.to_dict() == local.to_dict() and "x1" in report.drifted_features
    runs = _api(
        svc,
        "POST",
        "/flow_runs/filter",
        {"flow_runs": {"id": {"any_": [run_id]}}},
    )
    assert len(runs) == 1
    tasks = _api(svc, "POST", "/task_runs/filter", {"flow_runs": {"id": {"any_": [runs[0]["id"]]}}})
    names = sorted(t["name"].rsplit("-", 1)[0] for t in tasks)
    assert names == ["feature-drift"] * len(cfg.features.all)
    assert {t["state_type"] for t in tasks} == {"COMPLETED"}


@pytest.mark.integration
def test_a_work_pool_runs_the_deployments_instead_of_serve(svc: Service) -> None:
    """`driftloop deploy --pool` then a process worker: the flows load by module path."""
    pool = "driftloop-it"

    # No schedule for the pool's monitor: the one run here is the one triggered below.
    env = {**svc.env, "DRIFTLOOP_PREFECT__MONITOR_INTERVAL_SECONDS": "0"}

    def run(*argv: str) -> str:
        done = subprocess.run(
            argv, env=env, cwd=svc.root, capture_output=True, text=True, timeout=240
        )
        assert done.returncode == 0, f"{argv} exited {done.returncode}\n{done.stdout}{done.stderr}"
        return done.stdout

    run(str(BIN / "prefect"), "work-pool", "create", pool, "--type", "process")
    out = run(str(BIN / "driftloop"), "deploy", "--config", str(svc.project.config), "--pool", pool)
    assert f"prefect worker start --pool {pool}" in out
    for flow in ("monitor", "retrain"):
        dep = _deployment(svc, flow)
        assert dep["work_pool_name"] == pool and not dep["schedules"]
        assert dep["entrypoint"] == f"driftloop.flows.{flow}.{flow}"
    known = {r["id"] for r in _runs(svc, "monitor")}
    _finished(_deployment_run(svc, "monitor"))
    # --run-once: one poll, then the worker waits for the run it started and exits.
    run(str(BIN / "prefect"), "worker", "start", "--pool", pool, "--run-once")
    (monitor,) = _ended_runs(svc, "monitor", known, "the monitor run of the pool's worker", 120)
    assert monitor["state_type"] == "COMPLETED", monitor["state"]
    assert monitor["work_pool_name"] == pool
