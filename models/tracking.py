"""One MLflow run per batch, reached through an explicit client: parameters, metrics, tags, files.

Nothing here relies on a tracking URI set earlier in the process: every call goes through the
`MlflowClient` it is given. The few MLflow calls that exist only in the fluent API (logging
and loading a model) run inside `at_store(client)`, which points MLflow at the client's store
for the call and back afterwards.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
import warnings
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
import requests
from mlflow.data.pandas_dataset import from_pandas
from mlflow.entities import Dataset, DatasetInput, InputTag, Metric, Param, RunTag
from mlflow.tracking import MlflowClient

from driftloop.core.errors import RegistryError, TrackingUnreachable
from driftloop.core.redact import redact

HEALTH_TIMEOUT_S = 5.0
URI_ENV = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")
EMBEDDED_UI = "http://127.0.0.1:5000"
"""Where `mlflow ui` serves by default: the run links of an embedded store point there."""
# MLflow metric names allow only letters, digits, "_", "-", ".", " ", ":" and "/" (and no path
# tricks such as "a//b"), at most 250 characters; feature names are any text.
_NOT_IN_METRIC_NAME = re.compile(r"[^\w.\- ]+")
METRIC_NAME_CHARS = 250


def metric_names(names: list[str]) -> dict[str, str]:
    """A valid, unique MLflow metric name for each name (the exact ones stay in the reports)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        key = _NOT_IN_METRIC_NAME.sub("_", name)[:METRIC_NAME_CHARS] or "_"
        n = 1
        while key in taken:
            n += 1
            key = f"{key[: METRIC_NAME_CHARS - 8]}_{n}"
        taken.add(key)
        out[name] = key
    return out


def at_store(client: MlflowClient) -> AbstractContextManager[None]:
    """Point MLflow's fluent API at the client's tracking and registry store for the block."""
    return at_uri(client.tracking_uri, client._registry_uri or client.tracking_uri)


@contextmanager
def at_uri(tracking_uri: str, registry_uri: str | None = None) -> Iterator[None]:
    """Point MLflow's fluent API at a store (tracking and registry) for the block.

    Afterwards both are exactly as before, unset ones included, and so are
    $MLFLOW_TRACKING_URI and $MLFLOW_REGISTRY_URI, which setting them also writes.
    """
    from mlflow.tracking._model_registry import utils as registry_state
    from mlflow.tracking._tracking_service import utils as tracking_state

    before, registry = tracking_state._tracking_uri, registry_state._registry_uri
    env = {name: os.environ.get(name) for name in URI_ENV}
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(registry_uri or tracking_uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(before)  # type: ignore[arg-type]  # None unsets it
        registry_state._registry_uri = registry
        for name, value in env.items():  # setting either URI also writes its variable
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _upload(
    client: MlflowClient,
    run_id: str,
    json_files: Mapping[str, Any] | None,
    text_files: Mapping[str, str] | None,
) -> None:
    """Write JSON documents and text files to a temporary folder and upload them in one go."""
    if not (json_files or text_files):
        return
    with tempfile.TemporaryDirectory() as tmp:
        for name, doc in (json_files or {}).items():
            text = json.dumps(doc, indent=2, sort_keys=True, default=str)
            (Path(tmp) / name).write_text(redact(text), "utf-8")
        for name, text in (text_files or {}).items():
            (Path(tmp) / name).write_text(redact(text), "utf-8")
        client.log_artifacts(run_id, tmp)


def experiment_id(client: MlflowClient, experiment: str) -> str:
    """The id of the named experiment (connect() creates it)."""
    exp = client.get_experiment_by_name(experiment)
    if exp is None:
        raise RegistryError(
            f"no MLflow experiment {experiment!r} in {client.tracking_uri}; it is created when "
            "driftloop first connects: run `driftloop bootstrap` first."
        )
    return str(exp.experiment_id)


def start_batch_run(
    client: MlflowClient,
    experiment: str,
    run_name: str,
    params: Mapping[str, Any],
    tags: Mapping[str, str],
    metrics: Mapping[str, float] | None = None,
    json_files: Mapping[str, Any] | None = None,
    text_files: Mapping[str, str] | None = None,
    step: int = 0,
    run_id: str | None = None,
) -> str:
    """A batch's finished run, with its params, metrics, tags and files; its id.

    The run is created, unless `run_id` names one `open_batch_run` made. `step` is the batch's
    sequence number, so MLflow's charts show the metrics over batches.
    """
    if run_id is None:
        run_id, tags = open_batch_run(client, experiment, run_name, tags), {}
    log_to_run(client, run_id, metrics, tags, json_files, text_files, step, params)
    client.set_terminated(run_id)
    return run_id


def open_batch_run(
    client: MlflowClient, experiment: str, run_name: str, tags: Mapping[str, str]
) -> str:
    """Create a run in the experiment with its first tags; its id."""
    safe_tags = {k: redact(str(v)) for k, v in tags.items()}
    run = client.create_run(experiment_id(client, experiment), run_name=run_name, tags=safe_tags)
    return str(run.info.run_id)


def log_to_run(
    client: MlflowClient,
    run_id: str,
    metrics: Mapping[str, float] | None = None,
    tags: Mapping[str, str] | None = None,
    json_files: Mapping[str, Any] | None = None,
    text_files: Mapping[str, str] | None = None,
    step: int = 0,
    params: Mapping[str, Any] | None = None,
) -> None:
    """Add metrics (at `step`), tags, params, JSON documents and text files to an existing run."""
    now = int(time.time() * 1000)
    keys = metric_names(list(metrics or {}))
    client.log_batch(
        run_id,
        metrics=[Metric(keys[k], float(v), now, step) for k, v in (metrics or {}).items()],
        params=[Param(k, redact(str(v))[:500]) for k, v in (params or {}).items()],
        tags=[RunTag(k, redact(str(v))) for k, v in (tags or {}).items()],
    )
    _upload(client, run_id, json_files, text_files)


SCHEMA_ROWS = 1000
"""Rows MLflow infers a batch's column schema from: it checks each value (12 s at 200,000)."""


def log_batch_input(
    client: MlflowClient,
    run_id: str,
    frame: pd.DataFrame,
    name: str,
    source: str,
    target: str,
    digest: str | None = None,
) -> str:
    """Link the run to the batch it read (MLflow's dataset: digest, source, rows); the digest.

    The schema shown is inferred from the first `SCHEMA_ROWS` rows; the profile counts them all.
    """
    sample = frame.head(SCHEMA_ROWS)
    with warnings.catch_warnings():  # schema hints about int columns: the batch is what it is
        warnings.simplefilter("ignore")
        dataset = from_pandas(
            sample,
            source=source,
            name=name,
            targets=target if target in frame else None,
            digest=digest,
        )
        made = dataset._to_mlflow_entity()
    profile = {"num_rows": len(frame), "num_elements": int(frame.size)}
    entity = Dataset(
        made.name, made.digest, made.source_type, made.source, made.schema, json.dumps(profile)
    )
    context = InputTag(key="mlflow.data.context", value="batch")
    client.log_inputs(run_id, datasets=[DatasetInput(entity, tags=[context])])
    return str(made.digest)


def log_dir_to_run(client: MlflowClient, run_id: str, folder: Path) -> None:
    """Upload every file under a folder (for example TensorBoard logs) to the run's artifacts."""
    client.log_artifacts(run_id, str(folder))


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


def run_link(client: MlflowClient, run_id: str) -> str:
    """The run's page in the MLflow UI: on the tracking server, else where `mlflow ui` serves.

    An embedded store (sqlite, files) has no server; its runs open in `mlflow ui
    --backend-store-uri <store>`, which listens on EMBEDDED_UI unless told otherwise.
    """
    uri = client.tracking_uri
    base = redact(uri).rstrip("/") if uri.startswith(("http://", "https://")) else EMBEDDED_UI
    experiment = client.get_run(run_id).info.experiment_id
    return f"{base}/#/experiments/{experiment}/runs/{run_id}"
