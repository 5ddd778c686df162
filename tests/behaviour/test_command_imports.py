"""Commands that need no flow or model load neither: `status`, `history`, `rollback` and a `run`
with nothing waiting import neither Prefect nor TensorFlow (each in a fresh process, as typed);
`status` and `history` of a registered champion import no MLflow either (issue 17).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, LedgerEntry, zone_of
from driftloop.ingest.admit import QUARANTINED
from tests.helpers import Project, cli

HEAVY = ("prefect", "tensorflow", "keras")
READS = (*HEAVY, "mlflow")  # what a registry read (`status`, `history`) imports none of
ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import io, json, sys
from contextlib import redirect_stdout
from driftloop.app.cli import main
out = io.StringIO()
with redirect_stdout(out):
    code = main(sys.argv[1:])
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"code": code, "out": out.getvalue(), "heavy": heavy}}))
"""


def _fresh(project: Project, *args: str, heavy: tuple[str, ...] = HEAVY) -> dict[str, Any]:
    """`driftloop ARGS --config ...` in a new interpreter: exit code, stdout, heavy modules."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PREFECT_HOME": str(project.root / "ph")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", _PROBE.format(heavy=heavy), *args, "--config", str(project.config)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_status_history_and_rollback_load_neither_prefect_nor_tensorflow(
    project: Project,
) -> None:
    status = _fresh(project, "status")
    assert status["heavy"] == [] and status["code"] == 0
    assert "no champion yet" in status["out"]
    history = _fresh(project, "history")
    assert history["heavy"] == [] and history["code"] == 0
    assert "is not registered" in history["out"]
    rollback = _fresh(project, "rollback")
    assert rollback["heavy"] == [] and rollback["code"] == 2  # nothing to roll back to


def test_status_and_history_of_a_champion_import_no_mlflow(project: Project) -> None:
    res = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err
    status = _fresh(project, "status", heavy=READS)
    assert status["heavy"] == [] and status["code"] == 0
    assert "  champion: version 1 (initial, parent -), reference accuracy " in status["out"]
    assert "  previous: version -\n" in status["out"]
    as_json = _fresh(project, "status", "--json", heavy=READS)
    assert as_json["heavy"] == [] and json.loads(as_json["out"])["champion_version"] == "1"
    history = _fresh(project, "history", "--json", heavy=READS)
    assert history["heavy"] == [] and history["code"] == 0
    (move,) = [json.loads(line) for line in history["out"].splitlines()]
    assert (move["alias"], move["from_version"], move["to_version"]) == ("champion", None, "1")
    assert move["trigger"] == "bootstrap:bootstrap.csv"
    table = _fresh(project, "history", heavy=READS)
    assert table["heavy"] == [] and "bootstrap:bootstrap.csv" in table["out"]


def test_run_with_nothing_waiting_finishes_an_interrupted_move_without_prefect(
    project: Project,
) -> None:
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    frame = project.stream.batches[0].frame.head(30)
    src = project.drop(frame, "x.csv")
    zone, ledger = zone_of(cfg), Ledger(cfg.ledger_url)
    sha = hashlib.sha256(src.read_bytes()).hexdigest()
    dest = zone.free_name(zone.quarantine, "x.csv", sha)
    # A crash came between the ledger's intent and the move: the batch still sits in landing/.
    ledger.intend(
        zone.locate(str(src)), LedgerEntry("x.csv", sha, QUARANTINED, "why", destination=dest)
    )
    run = _fresh(project, "run")
    assert run["heavy"] == [] and run["code"] == 0
    assert f"(no batch waiting in {cfg.landing_dir})" in run["out"]
    assert not src.exists() and (cfg.quarantine_dir / "x.csv").is_file()
    assert Ledger(cfg.ledger_url).moves() == []
