"""What a user reads in the Prefect and MLflow UIs after a run: named, tagged runs, artifact
histories per model, metrics over batches, the data of each run, version descriptions, events."""

from __future__ import annotations

import os
import time
from typing import Any
from uuid import UUID

from mlflow.tracking import MlflowClient

from driftloop.core.config import load_config
from tests.helpers import Project, cli


def _drop(project: Project, frames: list[tuple[str, Any]]) -> None:
    for i, (name, frame) in enumerate(frames):
        path = project.drop(frame, name)
        os.utime(path, ns=(10**9 * (1000 + i),) * 2)


def _prefect() -> Any:
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def _events(names: list[str], runs: set[str], want: int, timeout: float = 60.0) -> list[Any]:
    """This test's events of these names (other tests of the process share the server)."""
    from prefect.events.filters import EventFilter, EventNameFilter

    deadline = time.monotonic() + timeout
    while True:
        with _prefect() as client:
            page = client.read_events(
                filter=EventFilter(event=EventNameFilter(name=names)), limit=50
            )
        ours = [e for e in page.events if e.payload.get("flow_run_id") in runs]
        if len(ours) >= want or time.monotonic() > deadline:
            return sorted(ours, key=lambda e: e.occurred)
        time.sleep(1.0)


def _task_runs(client: Any, ids: list[UUID], timeout: float = 60.0) -> list[Any]:
    """The task runs of these ids, in that order, once the server has recorded them all (task
    runs reach it as events, a moment after they end)."""
    from prefect.client.schemas.filters import TaskRunFilter, TaskRunFilterId

    deadline = time.monotonic() + timeout
    while True:
        found = client.read_task_runs(task_run_filter=TaskRunFilter(id=TaskRunFilterId(any_=ids)))
        done = {t.id: t for t in found if t.state is not None and t.state.is_final()}
        if len(done) == len(ids) or time.monotonic() > deadline:
            return [done[i] for i in ids if i in done]
        time.sleep(0.5)


def test_runs_artifacts_metrics_datasets_and_events_tell_what_happened(project: Project) -> None:
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
    )

    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    s = project.stream.batches
    _drop(project, [("stable.csv", s[0].frame), ("concept.csv", s[10].frame)])
    res = cli("run", "--config", cfg_path, "--json")
    assert res.code == 0, res.err
    stable, concept = res.json_lines()
    assert (stable["action"], concept["action"]) == ("none", "promoted")

    # Prefect: one task run per batch, named after it, in the monitor run that processed both
    # (the tests of this process share one Prefect server: read this test's runs only).
    assert stable["flow_run_id"] == concept["flow_run_id"]
    monitor_id = UUID(stable["flow_run_id"])
    batches = [UUID(stable["task_run_id"]), UUID(concept["task_run_id"])]
    with _prefect() as client:
        tasks = _task_runs(client, batches)
        assert [t.name for t in tasks] == ["process-batch/stable.csv", "process-batch/concept.csv"]
        assert {t.flow_run_id for t in tasks} == {monitor_id}
        assert [t.state.type.value for t in tasks] == ["COMPLETED", "COMPLETED"]
        assert [t.tags for t in tasks] == [[], []]  # no tag-slot round trip (flows/monitor.py)
        # Each batch's stages are task runs inside its own, as the run's graph shows them.
        inside = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[monitor_id]))
        )
        drift_parents = [
            parent.id
            for t in inside
            if t.name.startswith("detect-drift-")
            for parent in t.task_inputs.get("__parents__", [])
        ]
        assert sorted(drift_parents, key=batches.index) == batches
        # The monitor run is named after the model and tagged with it and with what its
        # batches found and did, so the runs list shows the run where a model was promoted.
        monitor_run = client.read_flow_run(monitor_id)
        assert monitor_run.name == "test-model"
        assert set(monitor_run.tags) == {
            "driftloop",
            "model:test-model",
            "verdict:no-drift",
            "verdict:drift",
            "action:none",
            "action:promoted",
        }
        # One artifact per batch, keyed per model: each batch is one more version of its
        # history. It holds the verdict, the per-feature table, the action and the MLflow link.
        key = "test-model-drift-report"
        mine = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[monitor_id]))
        arts = client.read_artifacts(artifact_filter=mine)
    assert sorted((a.key, a.description.split(" (")[0]) for a in arts) == [
        (key, "Drift report of concept.csv: drift, action promoted"),
        (key, "Drift report of stable.csv: no drift, action none"),
    ]
    report = str(next(a for a in arts if "concept.csv" in a.description).data)
    run_id = concept["mlflow_run_id"]
    assert "| feature | test | statistic | p-value | effect size | drifted |" in report
    assert "| x1 | " in report
    assert f"Action: **promoted to v{concept['challenger_version']}** (" in report
    assert f"MLflow run: [{run_id}](http://127.0.0.1:5000/#/experiments/" in report
    assert f"/runs/{run_id})" in report

    # MLflow: metrics at the batch's sequence number, the batch as the run's dataset.
    client = MlflowClient(tracking_uri=load_config(project.config).mlflow_uri)
    steps = {
        name: [m.step for m in client.get_metric_history(r["mlflow_run_id"], "p_value.x1")]
        for name, r in (("stable", stable), ("concept", concept))
    }
    assert steps == {"stable": [1], "concept": [2]}
    inputs = client.get_run(run_id).inputs.dataset_inputs
    (dataset,) = [d for d in inputs if d.tags[0].value == "batch"]
    # ... and the gate's holdout, as both models' evaluation datasets (models/gate_evaluation)
    contexts = sorted(d.tags[0].value for d in inputs if d.dataset.name == "gate-holdout")
    assert contexts == ["challenger_", "champion_"]
    assert dataset.dataset.name == "concept.csv"
    assert dataset.dataset.source_type == "local"
    assert '"num_rows": 600' in dataset.dataset.profile
    assert (dataset.tags[0].key, dataset.tags[0].value) == ("mlflow.data.context", "batch")
    # The promoted version says in words how it was made and why the gate passed it.
    version = client.get_model_version("test-model", concept["challenger_version"])
    assert version.description.startswith(
        "Fine-tuned from version 1 on concept.csv plus replayed rows. Gate: promoted to champion,"
        " because new data: challenger"
    )
    assert client.get_model_version("test-model", "1").description.startswith(
        "First model, trained from scratch on bootstrap.csv"
    )

    # Events, in the embedded mode too: the drift, then the promotion, each about the model.
    names = ["driftloop.drift.detected", "driftloop.challenger.promoted"]
    events = _events(names, {stable["flow_run_id"], concept["flow_run_id"]}, 2)
    assert [(e.event, e.payload["batch"]) for e in events] == [
        ("driftloop.drift.detected", "concept.csv"),
        ("driftloop.challenger.promoted", "concept.csv"),
    ]
    promoted = events[1]
    assert promoted.resource.id == "driftloop.model.test-model"
    assert promoted.payload["champion_version"] == concept["challenger_version"] == "2"
    assert promoted.payload["reason"] == concept["reason"]
    assert events[0].resource["driftloop.retrain"] == "false"  # inline mode retrained already
