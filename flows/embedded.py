"""The embedded Prefect server's port, taken from the kernel instead of Prefect's random pick.

Without PREFECT_API_URL, the first Prefect call of a process starts a temporary server on a
port Prefect picks at random in 8000-8999 and checks by binding it a moment earlier. Two
processes starting together (two `driftloop run`s of different projects, the test workers) can
pick the same one: the loser's server fails to bind, while its health check is answered by the
winner's, so it talks to the other process's server and database from then on (its retrain
slot, its runs). A port the kernel hands out (bind to port 0) is not handed to another process
while it is in use, so driftloop sets it on Prefect's server before the server starts: when
this module is imported (by every flows module that talks to Prefect), before any Prefect call.
"""

from __future__ import annotations

import socket

from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED


def kernel_port() -> int:
    """A free TCP port of 127.0.0.1, chosen by the kernel."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pin_embedded_port() -> SubprocessASGIServer | None:
    """Give the process's embedded server (not started yet) a kernel-chosen port; the server.

    None when a Prefect API is configured (no embedded server is used).
    """
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None
    server = SubprocessASGIServer()  # the instance Prefect's get_client uses (port None)
    if not server.running and server.port is None:
        server.port = kernel_port()
    return server


pin_embedded_port()
