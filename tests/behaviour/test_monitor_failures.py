"""The monitor flow when a batch's processing fails, or when the Prefect API loses a response."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from driftloop.core.config import load_config
from driftloop.ingest import Ledger
from tests.helpers import Project, cli


def _bootstrap(project: Project) -> None:
    res = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err


def test_a_batch_that_keeps_failing_waits_then_goes_to_quarantine_after_max_attempts(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    _bootstrap(project)
    shutil.rmtree(project.work / "mlartifacts")  # the champion's files are gone from the store
    monkeypatch.setenv("DRIFTLOOP_PREFECT__IO_RETRIES", "0")
    path = project.drop(project.stream.batches[1].frame, "b1.csv")
    lost = "version 1 of model 'test-model' has no files in the artifact store"
    for attempt in (1, 2):
        res = cli("run", "--config", str(project.config), "--json")
        assert res.code == 1
        (rec,) = res.json_lines()
        assert (rec["batch"], rec["status"], rec["action"]) == ("b1.csv", "failed", "failed")
        assert rec["reason"].startswith(f"RegistryError: {lost}")
        assert rec["reason"].endswith(f"tried again by the next run (attempt {attempt} of 3)")
        assert "driftloop rollback" in rec["reason"]
        assert "1 batch(es) failed and stay waiting: ['b1.csv']" in res.err
        assert path.is_file()
    res = cli("run", "--config", str(project.config), "--json")
    assert res.code == 1
    (rec,) = res.json_lines()
    assert (rec["status"], rec["action"]) == ("failed", "quarantined")
    assert "failed for the last allowed time ([ingest] max_attempts = 3)" in res.err
    assert "moved to quarantine: ['b1.csv']" in res.err and "stay waiting" not in res.err
    assert not path.exists()
    (entry,) = Ledger(load_config(project.config).ledger_url).recent()
    assert (entry.batch, entry.status, entry.attempts, entry.retryable) == (
        "b1.csv",
        "quarantined",
        3,
        True,
    )
    assert f"last error: RegistryError: {lost}" in entry.reason
    assert Path(entry.destination).is_file()
    uuid.UUID(entry.flow_run_id)  # the process-batch run of the attempt that gave up


def test_a_lost_response_to_the_subflows_completion_still_returns_its_record(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client resends the update; the API answers with its copy of the state (no result)."""
    _bootstrap(project)
    project.drop(project.stream.batches[1].frame, "b1.csv")
    send = httpx.Client.send
    lost: list[str] = []

    def lose_first_completion(self: httpx.Client, request: httpx.Request, **kw: Any) -> Any:
        response = send(self, request, **kw)
        path = request.url.path
        completion = path.startswith("/api/flow_runs/") and path.endswith("/set_state")
        if completion and not lost and json.loads(request.content)["state"]["type"] == "COMPLETED":
            lost.append(path)
            raise httpx.ReadError("connection reset before the response", request=request)
        return response

    monkeypatch.setattr(httpx.Client, "send", lose_first_completion)
    res = cli("run", "--config", str(project.config), "--json")
    assert lost, "no flow run completion went through the Prefect client"
    assert res.code == 0, res.err
    (rec,) = res.json_lines()
    assert (rec["batch"], rec["status"], rec["action"]) == ("b1.csv", "processed", "none")
