"""Two real `driftloop run` processes over the same landing zone: every batch is processed
exactly once, the ledger holds no false record, and the run that did not get the zone says so.

One real `prefect server` serves both runs (an embedded server per run would race on the
same Prefect database and cost 15-20 s each).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from driftloop.core.config import load_config
from driftloop.ingest import Ledger
from tests.helpers import Project
from tests.served import BIN, served_project

BATCHES = 5


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, dict[str, str]]]:
    with served_project(tmp_path_factory.mktemp("concurrent")) as served:
        yield served


def _drop(project: Project, trial: int) -> list[str]:
    frame = project.stream.batches[trial].frame  # new content in each trial
    names = []
    for i in range(BATCHES):
        name = f"t{trial}-b{i}.csv"
        project.drop(frame.iloc[i * 40 : i * 40 + 40], name)
        names.append(name)
    return names


def _start(env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN / "driftloop"), "run", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _check_once(project: Project, names: list[str], records: list[dict[str, object]]) -> None:
    cfg = load_config(project.config)
    assert sorted(str(r["batch"]) for r in records) == sorted(names)
    assert all(r["status"] == "processed" for r in records), records
    ledger = Ledger(cfg.ledger_url)
    entries = [e for e in ledger.recent(1000) if e.batch in names]
    assert sorted(e.batch for e in entries) == sorted(names)  # once each, nothing 'missing'
    assert {e.status for e in ledger.recent(1000)} == {"processed"}
    assert ledger.moves() == []
    assert os.listdir(cfg.landing_dir) == []


def test_a_run_started_while_another_holds_the_zone_processes_nothing_and_says_who(
    setup: tuple[Project, dict[str, str]],
) -> None:
    project, env = setup
    names = _drop(project, 1)
    first = _start(env)
    assert first.stderr is not None
    for line in first.stderr:  # the zone is locked before recovery and the listing
        if line.startswith("batch 1/"):  # the progress line of the first batch
            break
    second = subprocess.run(
        [str(BIN / "driftloop"), "run", "--json"], env=env, capture_output=True, text=True
    )
    out, _ = first.communicate(timeout=300)
    assert first.returncode == 0
    assert second.returncode == 2 and second.stdout == ""
    assert f"another driftloop run (pid {first.pid} on " in second.stderr
    assert "this run processed nothing and left every batch to it" in second.stderr
    _check_once(project, names, [json.loads(x) for x in out.splitlines()])


def test_two_runs_started_at_once_with_a_wait_process_each_batch_exactly_once(
    setup: tuple[Project, dict[str, str]],
) -> None:
    project, env = setup
    names = _drop(project, 2)
    waiting = {**env, "DRIFTLOOP_INGEST__LOCK_WAIT_SECONDS": "300"}
    runs = [_start(waiting), _start(waiting)]
    outs = [run.communicate(timeout=400) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err[-2000:] for _, err in outs]
    records = [json.loads(x) for out, _ in outs for x in out.splitlines()]
    counts = sorted(len(out.splitlines()) for out, _ in outs)
    assert counts == [0, BATCHES]  # the second to get the zone found nothing left
    assert any("waiting for the driftloop run holding" in err for _, err in outs)
    _check_once(project, names, records)
