"""kill -9 while a retrain holds the slot (embedded Prefect): the next run is not wedged.

The subset of bench/chaos_bench.py kept in the suite. `driftloop run` processes a drifted
labelled batch and is killed during its fine-tune, then again between the two alias moves of
its promotion. The dead run leaves the retrain slot counted in Prefect's database, with its
holder record naming it; the next `run` takes the slot back at once (the holder's process is
gone) and processes the batch; `driftloop unlock` releases a dead holder's slot by hand.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from prefect.client.orchestration import get_client

from driftloop.core.config import load_config
from driftloop.core.killpoints import KILL_ENV
from driftloop.flows.slot_holder import Holder, read_holder
from driftloop.flows.slots import limit_name
from driftloop.ingest import Ledger
from tests.helpers import TINY_SETTINGS, Project, cli, make_project

BIN = Path(sys.executable).parent
MODEL = "test-model"


def _killed_run(project: Project, spec: str) -> int:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLOOP_")}
    env[KILL_ENV] = spec
    log = project.root / f"killed-{spec.replace(':', '-')}.log"
    with open(log, "w", encoding="utf-8") as err:  # a file: the orphaned server keeps pipes open
        proc = subprocess.Popen(
            [str(BIN / "driftloop"), "run", "--config", str(project.config)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        rc = proc.wait(timeout=300)
    with contextlib.suppress(ProcessLookupError):  # its embedded Prefect server outlives it
        os.killpg(proc.pid, signal.SIGKILL)
    assert rc == -signal.SIGKILL, log.read_text(encoding="utf-8")[-3000:]
    return rc


def _slot() -> tuple[int, Holder | None]:
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(limit_name(MODEL))
        return int(limit.active_slots), read_holder(client, MODEL)


def _processed(project: Project) -> list[tuple[str, str]]:
    ledger = Ledger(load_config(project.config).ledger_url)
    return sorted((e.batch, e.status) for e in ledger.recent(100))


def test_a_run_killed_mid_fine_tune_never_wedges_the_next_and_unlock_frees_its_slot(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path, TINY_SETTINGS + "\n[prefect]\nretrain_lease_seconds = 30\n")
    res = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err
    project.drop(project.stream.batches[-1].frame, "drifted.csv")
    _killed_run(project, "task:challenge+1.0")  # fine-tuning when the kill comes
    active, holder = _slot()
    assert active == 1 and holder is not None  # the dead run's slot, as it was left
    res = cli("unlock", "--config", str(project.config))
    assert res.code == 0, res.err
    assert res.out.startswith(f"released the retrain slot of '{MODEL}' (its holder is gone: ")
    assert f"process {holder.pid} on " in res.out
    assert _slot() == (0, None)

    _killed_run(project, "task:challenge+1.0")  # again: no unlock this time
    assert _slot()[0] == 1
    start = time.monotonic()
    res = cli("run", "--config", str(project.config), "--json")
    took = time.monotonic() - start
    assert res.code == 0, res.err
    (rec,) = res.json_lines()
    assert (rec["batch"], rec["status"], rec["attempts"]) == ("drifted.csv", "processed", 3)
    assert rec["action"] in ("promoted", "rejected"), rec
    assert took < 120, took
    assert _slot() == (0, None)
    assert _processed(project) == [("drifted.csv", "processed")]
