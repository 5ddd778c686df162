"""`driftloop run` in its own process boots the embedded Prefect server before loading TensorFlow.

Issue 17: the server's start used to follow the imports and the champion load; now `run` starts
it first (flows/early_server.py) and it boots while the run imports TensorFlow. Watched from
outside, as a user's shell sees it: the run's child server process appears before TensorFlow's
library is mapped into the run's process; the run succeeds, its flow runs are in the embedded
database, and the server is gone when the run has exited. A user's own Prefect setting (an API
named in a Prefect profile, which driftloop cannot see in the environment) still wins: the run
talks to that API, and the server started early is stopped unused.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import TINY_SETTINGS, Project, cli, make_project

DRIFTLOOP = str(Path(sys.executable).parent / "driftloop")
SERVER_APP = "prefect.server.api.server:create_app"


@pytest.fixture(scope="module")
def booted(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = make_project(tmp_path_factory.mktemp("early"), TINY_SETTINGS)
    res = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err
    return project


def _env() -> dict[str, str]:
    """The environment of a user's shell: no Prefect or driftloop settings of the test run."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DRIFTLOOP_"))}


def _children(pid: int) -> list[int]:
    """The pids whose parent is `pid` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # the process ended meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _server_child(pid: int) -> int | None:
    """The pid of the run's embedded server process, if it runs now."""
    for child in _children(pid):
        try:
            if SERVER_APP in (Path("/proc") / str(child) / "cmdline").read_text():
                return child
        except OSError:
            continue
    return None


def _mapped(pid: int) -> str:
    """The files mapped into the process now (its shared libraries), as /proc shows them."""
    try:
        return (Path("/proc") / str(pid) / "maps").read_text()
    except OSError:
        return ""


# Compiled libraries whose mapping marks a moment in the run's process: Prefect imported (its
# date library, pendulum), TensorFlow imported, Prefect's server module imported (asyncpg, the
# server's PostgreSQL driver, which nothing else of a run loads).
MARKS = {"prefect": "_pendulum", "tensorflow": "libtensorflow", "server module": "asyncpg"}


@dataclass
class Watched:
    """What a watched run did: exit code, output, when each thing was first seen (s)."""

    code: int
    out: str
    err: str
    seen: dict[str, float]
    server_pid: int | None


def _watch(args: list[str], env: dict[str, str]) -> Watched:
    """Run `driftloop ARGS`, noting when its server child and each of MARKS first appear."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [DRIFTLOOP, *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    seen: dict[str, float] = {}
    server_pid = None
    while proc.poll() is None and time.perf_counter() - start < 300:
        now = time.perf_counter() - start
        if server_pid is None and (server_pid := _server_child(proc.pid)) is not None:
            seen["server"] = now
        maps = _mapped(proc.pid)
        for mark, library in MARKS.items():
            if mark not in seen and library in maps:
                seen[mark] = now
        time.sleep(0.02)
    out, err = proc.communicate(timeout=60)
    return Watched(proc.returncode, out, err, seen, server_pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_run_boots_the_server_before_tensorflow_and_its_flow_runs_persist(
    booted: Project,
) -> None:
    booted.drop(booted.stream.batches[0].frame, "a.csv")
    run = _watch(["run", "--json", "--config", str(booted.config)], _env())
    assert run.code == 0, run.err
    (record,) = [json.loads(line) for line in run.out.splitlines()]
    assert (record["batch"], record["status"]) == ("a.csv", "processed")
    # The server was started before this process imported Prefect, let alone TensorFlow, and
    # the process never imported Prefect's server module.
    assert run.seen["server"] < run.seen["prefect"] < run.seen["tensorflow"], run
    assert "server module" not in run.seen, run
    assert run.server_pid is not None and not _alive(run.server_pid)  # stopped with the run
    # The history stays in PREFECT_HOME's database (the config's work folder), for the UI.
    with sqlite3.connect(booted.work / "prefect" / "prefect.db") as db:
        runs = db.execute("SELECT name, state_type FROM flow_run ORDER BY start_time").fetchall()
        tasks = db.execute("SELECT name, state_type FROM task_run").fetchall()
    assert ("test-model", "COMPLETED") in runs  # the monitor run, named after the model
    assert ("process-batch/a.csv", "COMPLETED") in tasks  # the batch, a task run of it


def _dead_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again: nothing listens there


def test_an_api_named_in_a_prefect_profile_wins_over_the_server_started_early(
    booted: Project, tmp_path: Path
) -> None:
    batch = booted.drop(booted.stream.batches[1].frame, "b.csv")
    dead = f"http://127.0.0.1:{_dead_port()}/api"
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(f'active = "mine"\n[profiles.mine]\nPREFECT_API_URL = "{dead}"\n')
    env = {**_env(), "PREFECT_PROFILES_PATH": str(profiles)}
    run = _watch(["run", "--config", str(booted.config)], env)
    # The run went to the profile's API (down), not to the server it had started.
    assert run.code == 2, run.err
    (line,) = [x for x in run.err.splitlines() if x.startswith("driftloop run: error:")]
    assert "the Prefect API does not answer" in line, line
    assert "embedded Prefect server ready" not in run.err
    assert run.server_pid is not None and not _alive(run.server_pid)  # started, stopped unused
    assert batch.is_file()  # a fault of the API, not of the batch: it stays waiting
    again = _watch(["run", "--json", "--config", str(booted.config)], _env())
    assert again.code == 0, again.err
    assert [json.loads(x)["batch"] for x in again.out.splitlines()] == ["b.csv"]
