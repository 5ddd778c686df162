"""The embedded Prefect server this process uses: the one started early, or Prefect's own.

When `driftloop run` started the server before Prefect was imported (flows/early_server.py),
importing this module (every flows module that talks to Prefect does, before any Prefect call)
points Prefect at it: PREFECT_API_URL names it and Prefect's settings are re-read, so Prefect
neither starts a second server nor imports its server module. A user's own Prefect API (in a
profile or prefect.toml) wins: the early server is stopped unused.

Otherwise (a host process that imported Prefect first, `driftloop demo`), the first Prefect
call starts Prefect's own temporary server, on a port Prefect picks at random in 8000-8999 and
checks by binding it a moment earlier. Two processes starting together (two `driftloop run`s of
different projects, the test workers) can pick the same one: the loser's server fails to bind,
while its health check is answered by the winner's, so it talks to the other process's server
and database from then on (its retrain slot, its runs). A port the kernel hands out (bind to
port 0) is not handed to another process while it is in use, so driftloop sets it on Prefect's
server before the server starts. The early server takes its port from the kernel too.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import prefect.context
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED

from driftloop.flows.early_server import EarlyServer, early_server, kernel_port

if TYPE_CHECKING:
    from prefect.server.api.server import SubprocessASGIServer

__all__ = ["adopt_early_server", "kernel_port", "pin_embedded_port"]


def adopt_early_server() -> EarlyServer | None:
    """Point Prefect at the server started early, unless the user's settings name an API."""
    server = early_server()
    if server is None:
        return None
    if not server.adopted:
        if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
            server.stop()  # the user's Prefect settings name an API (or forbid an embedded one)
            return None
        server.adopted = True
    if os.environ.get("PREFECT_API_URL") != server.api_url:  # adopted now, or its port moved
        os.environ["PREFECT_API_URL"] = server.api_url
        prefect.context.refresh_global_settings_context()
    return server


def pin_embedded_port() -> SubprocessASGIServer | None:
    """Give Prefect's own embedded server (not started yet) a kernel-chosen port; the server.

    None when a Prefect API is configured (the early server included: no Prefect one is used).
    """
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        return None
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()  # the instance Prefect's get_client uses (port None)
    if not server.running and server.port is None:
        server.port = kernel_port()
    return server


adopt_early_server()
pin_embedded_port()
