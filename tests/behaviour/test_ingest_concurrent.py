"""Real `driftloop run` processes over one landing zone: every batch is processed exactly
once, the ledger holds no false record, and a run that did not get the zone says so.

The test holds the zone's lock itself (`zone_lock`, as a run holds it) while the runs start, so
each one meets a held zone whatever the machine's speed: a run left to race another finished
its batches before the other reached the lock. One real `prefect server` serves the runs (an
embedded server per run would race on the same Prefect database and cost 15-20 s each).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftloop.core.config import load_config
from driftloop.ingest import Ledger
from driftloop.ingest.zone_lock import zone_lock
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


def _start(env: dict[str, str], stderr: Path) -> subprocess.Popen[str]:
    with stderr.open("w") as err:  # a file, not a pipe: it is read while the run goes on
        return subprocess.Popen(
            [str(BIN / "driftloop"), "run", "--json"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )


def _await_line(path: Path, text: str, run: subprocess.Popen[str]) -> None:
    """Wait until `text` is in the file `path` that `run` writes its stderr to."""
    deadline = time.monotonic() + 120
    while text not in path.read_text():
        assert run.poll() is None, f"the run ended before saying {text!r}: {path.read_text()}"
        assert time.monotonic() < deadline, f"no {text!r} in 120 s: {path.read_text()}"
        time.sleep(0.1)


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
    cfg = load_config(project.config)
    with zone_lock(cfg):  # held as a run holds it; the test waits on no timing
        second = subprocess.run(
            [str(BIN / "driftloop"), "run", "--json"], env=env, capture_output=True, text=True
        )
    assert second.returncode == 2 and second.stdout == ""
    assert f"another driftloop run (pid {os.getpid()} on " in second.stderr
    assert "this run processed nothing and left every batch to it" in second.stderr
    assert sorted(os.listdir(cfg.landing_dir)) == sorted(names)
    assert not [e for e in Ledger(cfg.ledger_url).recent(1000) if e.batch in names]
    first = subprocess.run(
        [str(BIN / "driftloop"), "run", "--json"], env=env, capture_output=True, text=True
    )
    assert first.returncode == 0, first.stderr[-2000:]
    _check_once(project, names, [json.loads(x) for x in first.stdout.splitlines()])


def test_two_runs_started_at_once_with_a_wait_process_each_batch_exactly_once(
    setup: tuple[Project, dict[str, str]], tmp_path: Path
) -> None:
    project, env = setup
    names = _drop(project, 2)
    waiting = {**env, "DRIFTLOOP_INGEST__LOCK_WAIT_SECONDS": "300"}
    errs = [tmp_path / "a.err", tmp_path / "b.err"]
    with zone_lock(load_config(project.config)):  # both meet a held zone, then race for it
        runs = [_start(waiting, err) for err in errs]
        for run, err in zip(runs, errs, strict=True):
            _await_line(err, "waiting for the driftloop run holding", run)
    outs = [run.communicate(timeout=400)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [e.read_text()[-2000:] for e in errs]
    records = [json.loads(x) for out in outs for x in out.splitlines()]
    counts = sorted(len(out.splitlines()) for out in outs)
    assert counts == [0, BATCHES]  # the second to get the zone found nothing left
    _check_once(project, names, records)
