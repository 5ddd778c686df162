"""A notification on promotion: a Prefect automation on a real server calls a local webhook."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from driftloop.flows.notify import webhook_automation
from tests.helpers import TINY_SETTINGS, make_project
from tests.integration.servers import Servers, clean_env

DRIFTLOOP = Path(sys.executable).parent / "driftloop"
MODEL = "notify-model"


@pytest.fixture
def receiver() -> Iterator[tuple[str, queue.Queue[dict[str, Any]]]]:
    """A webhook receiver on 127.0.0.1: its URL, and the JSON bodies it was sent."""
    bodies: queue.Queue[dict[str, Any]] = queue.Queue()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            bodies.put(json.loads(self.rfile.read(length) or b"{}"))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/driftloop", bodies
    finally:
        server.shutdown()
        server.server_close()


def _automation(api: str, url: str) -> None:
    """The webhook block and the automation on promotion, created on the server."""
    from prefect.blocks.webhook import Webhook
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings
    from pydantic import SecretStr

    with temporary_settings(updates={PREFECT_API_URL: api}):
        block_id = Webhook(method="POST", url=SecretStr(url)).save(
            "driftloop-notify-test", overwrite=True
        )
        with get_client(sync_client=True) as client:
            client.create_automation(webhook_automation(MODEL, block_id))


@pytest.mark.integration
def test_a_promotion_calls_the_webhook_through_a_prefect_automation(
    servers: Servers, receiver: tuple[str, queue.Queue[dict[str, Any]]], tmp_path: Path
) -> None:
    url, bodies = receiver
    _automation(servers.prefect_api, url)
    project = make_project(
        tmp_path, TINY_SETTINGS + f'\n[prefect]\napi_url = "{servers.prefect_api}"\n'
    )
    text = project.config.read_text().replace('name = "test-model"', f'name = "{MODEL}"')
    project.config.write_text(text)
    home = tmp_path / "client-prefect-home"
    home.mkdir()
    env = clean_env(PREFECT_HOME=str(home))
    cfg = str(project.config)
    for args in (("bootstrap", "--data", str(project.bootstrap_csv)), ("run", "--json")):
        if args[0] == "run":
            os.utime(project.drop(project.stream.batches[10].frame, "concept.csv"))
        done = subprocess.run(
            [str(DRIFTLOOP), args[0], "--config", cfg, *args[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-4000:]
    (record,) = (json.loads(line) for line in done.stdout.splitlines())
    assert record["action"] == "promoted", record
    body = bodies.get(timeout=90)  # the server's automation services act within seconds
    assert (body["event"], body["model"], body["batch"]) == (
        "driftloop.challenger.promoted",
        MODEL,
        "concept.csv",
    )
    assert (body["action"], body["champion_version"]) == ("promoted", "2")
    assert body["reason"] == record["reason"]
    assert body["mlflow_run_id"] == record["mlflow_run_id"]
    assert bodies.empty()  # one promotion, one call (the drift event is not a promotion)
