"""Screenshots of the drift-over-time page, one batch's report and Prefect's flow-run list.

Usage (from the repository root)::

    .venv/bin/python bench/screenshots.py                        # runs `driftloop demo` first
    .venv/bin/python bench/screenshots.py --demo-dir driftloop-demo   # an existing demo folder

It starts a real Prefect server (``prefect server start`` on a free port of 127.0.0.1, its
home in a temporary folder), runs the demo (600 rows per batch, seed 0) against it into a
temporary folder, and writes ``bench/screenshots/drift-over-time.png``,
``bench/screenshots/batch-report.png`` (the report of the first promoted batch) and
``bench/screenshots/prefect-flow-runs.png`` (the server's Runs page: the demo's `monitor`
runs, one per batch, each tagged with its model and its batch's verdict and action) and
``bench/screenshots/prefect-batch-task-runs.png`` (the page of the first run that promoted a
challenger: its `process-batch/<file>` task run and the stages inside it). With
``--demo-dir`` naming a folder that has ``reports/drift-over-time.html`` the two reports come
from there (the demo still runs for the Prefect pages). Each PNG is cropped to its content
and stored with a 64-colour palette to stay small. Chromium: ``/usr/bin/chromium`` (Debian:
``apt-get install -y chromium``), or the path in ``$CHROMIUM``. Nothing is fetched from a
network: the pages are self-contained and Chromium runs with its background traffic off.

``--mlflow`` also shoots the MLflow UI's page of the demo's champion version
(``bench/screenshots/mlflow-model-version.png``) and of its logged model
(``bench/screenshots/mlflow-logged-model.png``) from an ``mlflow server`` started on the
demo's store at 127.0.0.1 (``--only-mlflow``: that page alone).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
]


def shoot(
    page: Path | str, png: Path, size: str, wait_ms: int = 0, extra: list[str] | None = None
) -> Path:
    """Render ``page`` (a file or URL) into ``png`` at the window ``size`` ("W,H").

    ``wait_ms`` lets a JavaScript page run that long (virtual time) before the shot; ``extra``:
    more Chromium flags.
    """
    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    png.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="driftloop-chromium-") as profile:
        subprocess.run(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={png}",
                f"--window-size={size}",
                *(extra or []),
                *([f"--virtual-time-budget={wait_ms}"] if wait_ms else []),
                page.resolve().as_uri() if isinstance(page, Path) else page,
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return png


def shrink(png: Path, margin: int = 24) -> Path:
    """Crop the blank page below and right of the content and store the PNG with a palette."""
    from PIL import Image, ImageChops  # pillow comes with matplotlib

    with Image.open(png) as shot:
        rgb = shot.convert("RGB")
    box = ImageChops.difference(rgb, Image.new("RGB", rgb.size, "white")).getbbox()
    if box:
        right, bottom = min(rgb.width, box[2] + margin), min(rgb.height, box[3] + margin)
        rgb = rgb.crop((0, 0, right, bottom))
    rgb.quantize(colors=64).save(png, optimize=True)
    return png


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def prefect_server(home: Path) -> Iterator[str]:
    """A real `prefect server start` on a free port, its home under ``home``; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    # The UI asks the API at port 4200 unless told the server's own address.
    env["PREFECT_UI_API_URL"] = f"http://127.0.0.1:{port}/api"
    prefect = Path(sys.executable).parent / "prefect"
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            with contextlib.suppress(OSError):
                if urllib.request.urlopen(f"{url}/api/health", timeout=2).status == 200:
                    break
            if server.poll() is not None:
                raise RuntimeError(f"prefect server exited; see {home / 'server.log'}")
            time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()


def run_demo_against(api_url: str, folder: Path) -> Path:
    """`driftloop demo` (600 rows per batch, seed 0) into ``folder``, its runs on ``api_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_API_URL=f"{api_url}/api", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    demo = ["demo", "-q", "--dir", str(folder), "--rows", "600", "--seed", "0"]
    subprocess.run(
        [sys.executable, "-m", "driftloop.app.cli", *demo],
        env=env,
        check=True,
        timeout=1800,
    )
    return folder / "reports"


def promoted_run(url: str) -> str:
    """The id of the oldest flow run tagged `action:promoted` on the Prefect server at ``url``."""
    import json

    body = {"flow_runs": {"tags": {"all_": ["action:promoted"]}}, "sort": "START_TIME_ASC"}
    request = urllib.request.Request(
        f"{url}/api/flow_runs/filter",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        runs = json.loads(answer.read())
    if not runs:
        raise RuntimeError("no flow run of the demo is tagged action:promoted")
    return str(runs[0]["id"])


UI_HOST = "mlflow.driftloop.test"  # resolved to 127.0.0.1 by Chromium itself, not by DNS


def _wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    """Wait until the MLflow server answers /health (or fail when it exits or times out)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if server.poll() is not None:
            raise RuntimeError(f"mlflow server exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"mlflow server at {url} did not answer /health in {timeout:.0f} s")


def shoot_mlflow_version(demo: Path, out: Path) -> list[Path]:
    """The MLflow UI's pages of the demo's champion version and of its model (LoggedModel).

    Starts `mlflow server` on the demo's store (sqlite database, local artifact folder) on a
    free port with one worker, renders the model version page (description, tags, source
    run, schema) and the logged model's page (the gate's holdout metrics with their dataset,
    the artifacts with the input example) into ``out`` (a JavaScript app: Chromium gets a
    virtual time budget to run it), and stops the server.
    """
    from driftloop.core.config import load_config
    from driftloop.flows.options import model_options
    from driftloop.models.registry import CHAMPION, alias_version, connect, logged_model_id

    cfg = load_config(demo / "driftloop.toml")
    name = cfg.model.name
    client = connect(model_options(cfg).store)
    version = alias_version(client, name, CHAMPION) or "1"
    mv = client.get_model_version(name, version)
    experiment = client.get_run(mv.run_id).info.experiment_id
    model_id = logged_model_id(mv)
    port = free_port()
    mlflow = Path(sys.executable).with_name("mlflow")
    command = [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--backend-store-uri", cfg.mlflow_uri, "--workers", "1"]
    command += ["--default-artifact-root", str(cfg.artifact_location)]
    command += ["--allowed-hosts", f"{UI_HOST}:{port},127.0.0.1:{port}"]
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}", server)
        # The UI opens its chat assistant over a third of the page when the host is
        # 127.0.0.1 or localhost; another name for the same address keeps the page whole.
        base = f"http://{UI_HOST}:{port}/#"
        extra = ["--virtual-time-budget=20000", f"--host-resolver-rules=MAP {UI_HOST} 127.0.0.1"]
        pages = {
            "mlflow-model-version.png": f"{base}/models/{name}/versions/{version}",
            "mlflow-logged-model.png": f"{base}/experiments/{experiment}/models/{model_id}",
        }
        return [shoot(page, out / png, "1400,1500", extra=extra) for png, page in pages.items()]
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> None:
    """Render the screenshots (the MLflow pages too with --mlflow, only them with --only-mlflow)."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--demo-dir", type=Path, help="an existing demo folder (default: run one)")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "screenshots")
    p.add_argument(
        "--mlflow", action="store_true", help="also the MLflow UI's page of the champion version"
    )
    p.add_argument("--only-mlflow", action="store_true", help="only the MLflow version page")
    args = p.parse_args()
    if args.only_mlflow:
        if args.demo_dir is None:
            p.error("--only-mlflow needs --demo-dir: a folder made by `driftloop demo`")
        for png in shoot_mlflow_version(args.demo_dir, args.out):
            print(shrink(png))
        return
    tmp = Path(tempfile.mkdtemp(prefix="driftloop-shots-"))
    (tmp / "prefect").mkdir()
    with prefect_server(tmp / "prefect") as url:
        reports = run_demo_against(url, tmp / "demo")
        runs = shoot(f"{url}/runs", args.out / "prefect-flow-runs.png", "1600,1840", 20000)
        page = f"{url}/runs/flow-run/{promoted_run(url)}"
        tasks = shoot(page, args.out / "prefect-batch-task-runs.png", "1600,1400", 20000)
    print(shrink(runs))
    print(shrink(tasks))
    given = args.demo_dir / "reports" if args.demo_dir else None
    if given is not None and (given / "drift-over-time.html").is_file():
        reports = given
    if args.mlflow:
        for png in shoot_mlflow_version(reports.parent, args.out):
            print(shrink(png))
    page = reports / "drift-over-time.html"
    text = page.read_text(encoding="utf-8")
    rows = text.split("<tr class='batch")[1:]
    chosen = next((r for r in rows if ">promoted</span>" in r and "<a href=" in r), text)
    batch = reports / re.findall(r"<a href='([^']+)'>", chosen)[0]
    print(shrink(shoot(page, args.out / "drift-over-time.png", "1400,2400")))
    print(shrink(shoot(batch, args.out / "batch-report.png", "1400,2400")))


if __name__ == "__main__":
    main()
