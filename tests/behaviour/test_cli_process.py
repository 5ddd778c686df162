"""The installed `driftloop` command in a process of its own: JSON on stdout, logs on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import Project

DRIFTLOOP = str(Path(sys.executable).parent / "driftloop")


def _env(project: Project) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["DRIFTLOOP_CONFIG"] = str(project.config)  # found from the environment, no --config
    return env


def test_run_json_prints_only_records_on_stdout(project: Project) -> None:
    env = _env(project)
    boot = subprocess.run(
        [DRIFTLOOP, "bootstrap", "--data", str(project.bootstrap_csv)],
        env=env,
        capture_output=True,
        text=True,
        cwd=project.root,
    )
    assert boot.returncode == 0, boot.stderr
    project.drop(project.stream.batches[1].frame, "b1.csv")
    run = subprocess.run(
        [DRIFTLOOP, "run", "--json"], env=env, capture_output=True, text=True, cwd="/"
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert len(lines) == 1
    rec = json.loads(lines[0])
    assert (rec["batch"], rec["status"], rec["drift"], rec["action"]) == (
        "b1.csv",
        "processed",
        False,
        "none",
    )
    # Progress went to stderr, one plain line per batch (stderr is a pipe); the flow's own
    # INFO logs and Prefect's per-task lines stay off the console unless -v.
    assert "batch 1/1: b1.csv" in run.stderr.splitlines()
    assert "Finished in state" not in run.stderr
    # Prefect ran embedded, its store in the work folder named by the config.
    assert (project.work / "prefect" / "prefect.db").is_file()
