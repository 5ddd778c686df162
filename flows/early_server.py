"""The embedded Prefect server, started in the background before this process imports Prefect.

Without a Prefect API, Prefect starts a temporary server (a `uvicorn` subprocess on the
PREFECT_HOME database) at the first flow run and waits for it; its class lives in
`prefect.server.api.server`, whose import alone (the server's routes, models and database
layer, none of which this process uses) costs 3 to 6 s. So a `driftloop run` with work waiting
starts the same subprocess itself, first thing: it boots on the other core while this process
imports Prefect, MLflow and TensorFlow and loads the champion. Once Prefect is imported,
flows/embedded.py points it at this server (PREFECT_API_URL) unless the user's own Prefect
settings (a profile, prefect.toml) name an API, which wins: this server is stopped unused.

The server is the one Prefect would start: same command, same environment markers (no UI;
the services of an ephemeral server), same database, so the run history persists in
PREFECT_HOME and a later `prefect server start` shows it. It stops when this process exits.
This module imports no Prefect: it must run before Prefect is imported.
"""

from __future__ import annotations

import atexit
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path

from driftloop.core.errors import SystemFault

# What Prefect's SubprocessASGIServer sets for its server (prefect/server/api/server.py).
SERVER_ENV = {
    "PREFECT_UI_ENABLED": "0",
    "PREFECT__SERVER_EPHEMERAL": "1",
    "PREFECT__SERVER_FINAL": "1",
}
PORT_IN_USE = 3  # the exit code Prefect retries on with another port
STOP_WAIT_S = 5.0


@dataclass
class EarlyServer:
    """A Prefect server subprocess this process started, and when."""

    process: subprocess.Popen[bytes]
    port: int
    started: float = field(default_factory=time.perf_counter)
    ready: bool = False
    adopted: bool = False  # PREFECT_API_URL names it (flows/embedded.py)

    @property
    def address(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The URL PREFECT_API_URL names for it."""
        return f"{self.address}/api"

    def stop(self) -> None:
        """End the server (SIGTERM, then SIGKILL after 5 s), once."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _STARTED.clear()


_STARTED: list[EarlyServer] = []


def kernel_port() -> int:
    """A free TCP port of 127.0.0.1, chosen by the kernel."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _spawn(port: int) -> subprocess.Popen[bytes]:
    """Prefect's own server command for an ephemeral server on `port`."""
    spec = find_spec("prefect")  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise SystemFault("Prefect is not installed in this environment: pip install driftloop")
    return subprocess.Popen(
        [
            sys.executable,
            *("-m", "uvicorn", "--app-dir", str(Path(spec.origin).parent.parent)),
            *("--factory", "prefect.server.api.server:create_app"),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--log-level", "error", "--lifespan", "on"),
        ],
        env={**os.environ, **SERVER_ENV},
    )


def start_early_server() -> EarlyServer | None:
    """Start the embedded server now, in the background; None when one is not wanted.

    Not wanted: PREFECT_API_URL is set (the config's [prefect] api_url is put there), Prefect is
    imported already (a host process: Prefect's own start applies), or one runs already.
    """
    if os.environ.get("PREFECT_API_URL") or "prefect" in sys.modules or _STARTED:
        return None
    port = kernel_port()
    server = EarlyServer(_spawn(port), port)
    _STARTED.append(server)
    atexit.register(server.stop)  # registered before Prefect's handlers: they drain to it first
    return server


def early_server() -> EarlyServer | None:
    """The server start_early_server started in this process (None: none, or stopped)."""
    return _STARTED[0] if _STARTED else None


def wait_ready(server: EarlyServer, timeout_s: float) -> float:
    """Wait until the server answers its health check; the seconds since it was started."""
    import httpx

    deadline = time.perf_counter() + timeout_s
    with httpx.Client() as client:
        while time.perf_counter() < deadline:
            code = server.process.poll()
            if code == PORT_IN_USE:  # taken between the pick and the bind (the caller re-points)
                server.port = kernel_port()
                server.process = _spawn(server.port)
                continue
            if code is not None:
                raise SystemFault(
                    f"the embedded Prefect server exited with code {code} while starting (its "
                    "error is above); fix it, or set [prefect] api_url / PREFECT_API_URL to a "
                    "running `prefect server start`"
                )
            try:
                if client.get(f"{server.api_url}/health").status_code == 200:
                    server.ready = True
                    return time.perf_counter() - server.started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    server.stop()
    raise SystemFault(
        f"the embedded Prefect server did not answer within {timeout_s:g} s; raise "
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS, or set [prefect] api_url / "
        "PREFECT_API_URL to a running `prefect server start`"
    )
