"""kill -9 of the late-label step at each of its crash points: every label file ends in exactly
one place, and the labels of each accepted file are stored exactly once.

The process really kills itself with SIGKILL (`DRIFTLOOP_INGEST_KILL_AT`, see
driftloop/core/killpoints.py) while it admits label files as `driftloop run` does; the next
process finishes the interrupted move and admits what still waits.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from driftloop.core.config import load_config
from driftloop.core.killpoints import KILL_ENV
from driftloop.ingest.labels_admit import STEPS
from driftloop.ingest.labels_store import LabelStore
from tests.unit.test_late_labels import batch_frame, drop_labels, late_project, places

SCRIPT = """
import sys
from driftloop.core.config import load_config
from driftloop.ingest import zone_of
from driftloop.ingest.labels_admit import LabelSpec, admit_waiting_labels
from driftloop.ingest.labels_store import LabelStore
cfg = load_config(sys.argv[1])
m = cfg.model
spec = LabelSpec(m.name, m.id_column, m.target)
admit_waiting_labels(zone_of(cfg), LabelStore(cfg.ledger_url), spec)
"""
ROOT = Path(__file__).resolve().parents[2]


def _admit(config: Path, kill_at: str = "") -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop(KILL_ENV, None)
    if kill_at:
        env[KILL_ENV] = kill_at
    cmd = [sys.executable, "-c", SCRIPT, str(config)]
    return subprocess.run(cmd, env=env, capture_output=True, timeout=120).returncode


@pytest.mark.parametrize(
    "kill_at", [f"{s}:2" for s in STEPS if s != "label-noted"] + ["label-noted"]
)
def test_kill_9_while_label_files_are_admitted_leaves_each_in_one_place(
    tmp_path: Path, kill_at: str
) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    labels = batch_frame(project, 0)[["rid", "label"]]
    drop_labels(cfg, labels.iloc[:20], "a.csv")
    drop_labels(cfg, labels.iloc[20:], "b.parquet")
    drop_labels(cfg, labels.drop(columns="label"), "c-broken.csv")
    assert _admit(project.config, kill_at) == -signal.SIGKILL
    for name in ("a.csv", "b.parquet", "c-broken.csv"):
        assert len(places(cfg, name)) == 1, f"{name} after the kill at {kill_at}"
    assert _admit(project.config) == 0
    root = cfg.work_dir / "labels"
    assert places(cfg, "a.csv") == places(cfg, "b.parquet") == [str(root / "processed")]
    assert places(cfg, "c-broken.csv") == [str(root / "quarantine")]
    assert (root / "quarantine" / "c-broken.csv.reason.txt").is_file()
    store = LabelStore(cfg.ledger_url)
    assert store.moves() == []
    assert sorted((f.file, f.status) for f in store.files()) == [
        ("a.csv", "processed"),
        ("b.parquet", "processed"),
        ("c-broken.csv", "quarantined"),
    ]
    stored = store.labels_for(cfg.model.name, labels["rid"].tolist())
    assert sorted(stored["row_id"]) == sorted(labels["rid"])  # each label once
