"""kill -9 of `driftloop run` at seeded random points: every batch ends in exactly one place,
the ledger agrees with the folders, and nothing is processed twice.

One real `prefect server` serves every run of the module (an embedded server per run would
cost 15-20 s each); the model is bootstrapped once. Half the trials kill the process at a
seeded random delay after it starts working; the other half make it kill itself at a seeded
crash point between two ingest steps (`DRIFTLOOP_INGEST_KILL_AT`), so each step boundary is hit.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from driftloop.core.config import load_config
from driftloop.ingest import Ledger
from driftloop.ingest.faults import KILL_ENV, STEPS
from tests.helpers import Project
from tests.served import BIN, served_project
from tests.unit.test_ingest_crash import check_invariants

TRIALS, SEED = 8, 20260


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Project, dict[str, str]]]:
    with served_project(
        tmp_path_factory.mktemp("kill"), "\n[ingest]\nmax_attempts = 50\n"
    ) as served:
        yield served


TAILS: list[str] = []
"""The last stderr lines of each run, for the failure message."""


def _run(env: dict[str, str], delay: float | None) -> int:
    """One `driftloop run`; with a delay, kill -9 it that long after it starts on the batches."""
    lines: list[str] = []
    proc = subprocess.Popen(
        [str(BIN / "driftloop"), "run", "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    working = threading.Event()

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if line.startswith("batch 1/"):  # the progress line of the first batch
                working.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    if delay is not None and working.wait(120) and proc.poll() is None:
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
    rc = proc.wait(180)
    reader.join(5)  # the lines the run wrote before it ended
    TAILS.append(f"rc {rc}: " + "".join(lines[-3:])[-600:])
    return rc


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_kill_9_at_random_points_loses_nothing_and_processes_nothing_twice(
    setup: tuple[Project, dict[str, str]],
) -> None:
    project, env = setup
    cfg = load_config(project.config)
    goods = [f"g{i}.csv" for i in range(6)]
    for i, name in enumerate(goods):
        project.drop(project.stream.batches[i].frame.head(30).drop(columns="label"), name)
    project.drop(project.stream.batches[0].frame.head(30).drop(columns="x3"), "bad.csv")
    project.drop(project.stream.batches[0].frame.head(30).drop(columns="label"), "dup.csv")
    for i, name in enumerate([*goods, "bad.csv", "dup.csv"]):
        os.utime(cfg.landing_dir / name, ns=(10**9 * (1000 + i),) * 2)
    inputs = {p.name: _sha(p) for p in cfg.landing_dir.iterdir()}
    rng = random.Random(SEED)
    kills = []
    for trial in range(TRIALS):
        if not any(cfg.landing_dir.iterdir()):
            break
        if trial % 2:
            spec = f"{rng.choice(STEPS)}:{rng.randint(1, 2)}"
            rc = _run({**env, KILL_ENV: spec}, None)
        else:
            # Within 1 s of the first batch: a batch takes a fraction of a second, and runs
            # given 4 s, then 2 s, finished the files left before the kill came.
            spec = f"{rng.uniform(0.0, 1.0):.2f}s"
            rc = _run(env, float(spec[:-1]))
        kills.append((spec, rc))
        # A rename is atomic: between runs, every batch is in exactly one folder.
        everywhere = [
            _sha(p)
            for d in (cfg.landing_dir, cfg.processed_dir, cfg.quarantine_dir)
            for p in d.iterdir()
            if not p.name.endswith(".reason.txt") and not p.name.startswith(".")
        ]
        assert sorted(everywhere) == sorted(inputs.values()), (kills, TAILS)
    assert sum(rc == -signal.SIGKILL for _, rc in kills) >= 3, kills
    # A clean run finishes what the kills left: 3 if it quarantined bad.csv or dup.csv itself.
    assert _run(env, None) in (0, 3), (kills, TAILS)
    check_invariants(cfg, inputs)
    status = {e.batch: e.status for e in Ledger(cfg.ledger_url).recent(100)}
    assert status == {**dict.fromkeys(goods, "processed"), "bad.csv": "quarantined"} | {
        "dup.csv": "duplicate"
    }, kills
