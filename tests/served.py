"""A bootstrapped test project whose `driftloop` commands run against one real `prefect server`.

Shared by the tests that start several `driftloop run` processes (kill -9 trials, concurrent
runs): an embedded Prefect server per run would race on one database and cost 15-20 s each.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.helpers import TINY_SETTINGS, Project, make_project

BIN = Path(sys.executable).parent


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment without Prefect or driftloop settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DRIFTLOOP_"))}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    return env


def _wait_healthy(port: int, timeout: float = 120.0) -> None:
    deadline = time.time() + timeout
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2)
            return
        except OSError:
            assert time.time() < deadline, "prefect server did not start"
            time.sleep(0.5)


@contextmanager
def served_project(root: Path, extra: str = "") -> Iterator[tuple[Project, dict[str, str]]]:
    """A project under `root` (TINY_SETTINGS + `extra`), bootstrapped; its CLI environment."""
    project = make_project(root, TINY_SETTINGS + extra)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=clean_env(root / "server-home", PREFECT_UI_ENABLED="false"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    env = clean_env(
        root / "client-home",
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_LOGGING_LEVEL="INFO",
        DRIFTLOOP_CONFIG=str(project.config),
    )
    try:
        boot = subprocess.run(
            [str(BIN / "driftloop"), "bootstrap", "--data", str(project.bootstrap_csv)],
            env=env,
            capture_output=True,
            text=True,
        )
        assert boot.returncode == 0, boot.stderr
        _wait_healthy(port)
        yield project, env
    finally:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
