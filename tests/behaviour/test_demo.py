"""`driftloop demo`, end to end: drift flagged exactly at the drift points, promotions that help."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from mlflow.tracking import MlflowClient

from driftloop.app.demo import MARKER
from driftloop.core.config import load_config
from tests.helpers import CliResult, cli

ROW = re.compile(r"^(batch_\d{3})\.csv\s+(\d+)\s+(no drift|DRIFT (\S+))\s+(\S+)\s+v(\d+)\s")
FOLLOW = re.compile(
    r"after promotion at (batch_\d{3})\.csv: on (batch_\d{3}) the new champion v(\d+) scores "
    r"([\d.]+), the old v(\d+) ([\d.]+)"
)


def _demo(folder: Path) -> CliResult:
    """`driftloop demo --dir folder` as a user runs it: its own process, stderr not a terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run(
        [sys.executable, "-m", "driftloop.app.cli", "demo", "--dir", str(folder)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)


def test_demo_flags_the_drift_points_and_promotes_better_models(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    res = _demo(folder)
    assert res.code == 0, res.err
    # Quiet by default: the table and the summary tell the story, with a line per training
    # and one for the embedded server; no Prefect or MLflow chatter (issue 15: 358 lines).
    lines = res.out.splitlines() + res.err.splitlines()
    assert len(lines) <= 40, "\n".join(lines)
    assert "Finished in state" not in res.err and "Created version" not in res.err
    progress = res.err.splitlines()
    assert re.fullmatch(r"training: \d+ epochs.*, best val_loss [\d.]+", progress[0])
    assert re.fullmatch(
        r"embedded Prefect server ready in [\d.]+ s at http://127\.0\.0\.1:\d+", progress[1]
    )
    assert sum(line.startswith("fine-tuning: ") for line in progress) == 2
    rows = [m.groups() for line in res.out.splitlines() if (m := ROW.match(line))]
    assert len(rows) == 16 and all(r[1] == "2000" for r in rows)
    flagged = [i for i, r in enumerate(rows) if r[2] != "no drift"]
    assert flagged == [4, 9]
    assert rows[4][3].split(",")[:3] == ["x1", "x3", "c1"] and "__accuracy__" in rows[9][3]
    assert [r[4] for r in rows].count("promoted") == 2
    assert (rows[4][4], rows[9][4]) == ("promoted", "promoted")
    assert [r[5] for r in rows] == ["1"] * 4 + ["2"] * 5 + ["3"] * 7
    # After the concept change, the promoted model beats the old champion on the next batch.
    follow = {m.group(1): m.groups() for m in FOLLOW.finditer(res.out)}
    _, nxt, new_v, new_acc, old_v, old_acc = follow["batch_009"]
    assert (nxt, new_v, old_v) == ("batch_010", "3", "2")
    assert float(new_acc) > float(old_acc) + 0.3
    _, _, _, new_acc, _, old_acc = follow["batch_004"]
    assert float(new_acc) > float(old_acc)

    cfg = load_config(folder / "driftloop.toml")
    aliases = MlflowClient(cfg.mlflow_uri).get_registered_model("demo-model").aliases
    assert {k: str(v) for k, v in aliases.items()} == {"champion": "3", "previous": "2"}
    assert f"mlflow ui --backend-store-uri {cfg.mlflow_uri}" in res.out
    assert f"PREFECT_HOME={cfg.prefect_home} prefect server start" in res.out
    assert (folder / "demo.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = folder / "reports" / "drift-over-time.html"
    assert f"drift over time: {page}" in res.out
    assert page.read_text(encoding="utf-8").count("<tr class='batch") == 16

    # A second demo run recreates its own folder, but never a folder it did not make.
    (tmp_path / "other").mkdir()
    refused = cli("demo", "--dir", str(tmp_path / "other"), "--rows", "100")
    assert refused.code == 2 and "was not made by `driftloop demo`" in refused.err
    assert (folder / MARKER).exists()
