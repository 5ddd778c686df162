"""One MLflow run per batch: its parameters, metrics, tags and report files."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow
import requests

from driftloop.core.errors import TrackingUnreachable
from driftloop.core.redact import redact

HEALTH_TIMEOUT_S = 5.0


def _log_active(
    metrics: Mapping[str, float] | None,
    tags: Mapping[str, str] | None,
    json_files: Mapping[str, Any] | None,
    text_files: Mapping[str, str] | None,
) -> None:
    """Log metrics, tags and files to the active run; the files in one upload."""
    if metrics:
        mlflow.log_metrics({k: float(v) for k, v in metrics.items()})
    if tags:
        mlflow.set_tags({k: redact(str(v)) for k, v in tags.items()})
    if json_files or text_files:
        with tempfile.TemporaryDirectory() as tmp:
            for name, doc in (json_files or {}).items():
                text = json.dumps(doc, indent=2, sort_keys=True, default=str)
                (Path(tmp) / name).write_text(redact(text), "utf-8")
            for name, text in (text_files or {}).items():
                (Path(tmp) / name).write_text(redact(text), "utf-8")
            mlflow.log_artifacts(tmp)


def start_batch_run(
    run_name: str,
    params: Mapping[str, Any],
    tags: Mapping[str, str],
    metrics: Mapping[str, float] | None = None,
    json_files: Mapping[str, Any] | None = None,
    text_files: Mapping[str, str] | None = None,
) -> str:
    """Create a batch's run in the current experiment, with any first metrics and files; its id."""
    with mlflow.start_run(run_name=run_name) as run:
        mlflow.log_params({k: redact(str(v))[:500] for k, v in params.items()})
        mlflow.set_tags({k: redact(str(v)) for k, v in tags.items()})
        _log_active(metrics, None, json_files, text_files)
    return run.info.run_id


def log_to_run(
    run_id: str,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    json_files: Mapping[str, Any] | None = None,
    text_files: Mapping[str, str] | None = None,
) -> None:
    """Add metrics, tags, JSON documents and text files to an existing run."""
    with mlflow.start_run(run_id=run_id):
        _log_active(metrics, tags, json_files, text_files)


def log_dir_to_run(run_id: str, folder: Path) -> None:
    """Upload every file under a folder (for example TensorBoard logs) to the run's artifacts."""
    with mlflow.start_run(run_id=run_id):
        mlflow.log_artifacts(str(folder))


def check_tracking(uri: str) -> None:
    """Raise TrackingUnreachable unless the MLflow server at uri answers its health check.

    Only http(s) URIs are probed; a local store (sqlite, a file) has no server to be down.
    """
    if not uri.startswith(("http://", "https://")):
        return
    try:
        resp = requests.get(f"{uri.rstrip('/')}/health", timeout=HEALTH_TIMEOUT_S)
    except requests.RequestException as err:
        why = f"{type(err).__name__}: {err}"
    else:
        if resp.status_code == 200:
            return
        why = f"GET /health answered HTTP {resp.status_code}"
    raise TrackingUnreachable(
        f"cannot reach the MLflow tracking server at {redact(uri)} ({redact(why)}). Start it "
        "(or fix [tracking] tracking_uri / DRIFTLOOP_TRACKING__TRACKING_URI); nothing was "
        "changed in the registry and waiting batches stay in the landing folder."
    )


def run_link(run_id: str, uri: str | None = None) -> str:
    """Where a person opens a run: its page on a tracking server, else its runs:/ URI."""
    uri = uri or mlflow.get_tracking_uri()
    if not uri.startswith(("http://", "https://")):
        return f"runs:/{run_id}"
    experiment = mlflow.get_run(run_id).info.experiment_id
    return f"{redact(uri).rstrip('/')}/#/experiments/{experiment}/runs/{run_id}"
