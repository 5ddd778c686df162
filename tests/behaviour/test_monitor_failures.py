"""The monitor flow when a batch's processing fails, or when the Prefect API loses a response."""

from __future__ import annotations

import json
import shutil
from typing import Any

import httpx
import pytest

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, zone_of
from tests.helpers import Project, cli


def _bootstrap(project: Project) -> None:
    res = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err


def test_champion_files_gone_stop_every_run_without_counting_or_quarantining_the_batch(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: the store's fault is not the batch's (it used to count 3 attempts, quarantine)."""
    _bootstrap(project)
    shutil.rmtree(project.work / "mlartifacts")  # the champion's files are gone from the store
    monkeypatch.setenv("DRIFTLOOP_PREFECT__IO_RETRIES", "0")
    path = project.drop(project.stream.batches[1].frame, "b1.csv")
    lost = "version 1 of model 'test-model' has no files in the artifact store"
    cfg = load_config(project.config)
    for _ in range(cfg.ingest.max_attempts + 1):
        res = cli("run", "--config", str(project.config), "--json")
        assert res.code == 2
        assert res.out == ""
        # Progress lines, then one error line: Prefect's engine records stay off the console.
        *progress, line = res.err.splitlines()
        assert all(p.startswith(("embedded Prefect server ready", "batch 1/1")) for p in progress)
        assert line.startswith(f"driftloop run: error: {lost}")
        assert "`driftloop rollback`" in line
        assert line.endswith("left waiting: ['b1.csv']. Fix the fault and run again.")
        assert path.is_file()
    ledger = Ledger(cfg.ledger_url)
    assert ledger.attempt(zone_of(cfg).locate(path)) is None
    assert ledger.recent() == []
    assert list(cfg.quarantine_dir.iterdir()) == []


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
