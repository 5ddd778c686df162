"""A version's replay rows, stored apart from the model: an artifact of the version's run.

The registered model's artifact holds only what serving needs (Keras file, metadata, drift
profile), so `mlflow.pyfunc.load_model("models:/NAME@champion")` downloads no training rows.
The rows a version was made with are the run artifact `replay/version-<N>.parquet`, fetched
only when a challenger replays them. Versions of older releases kept `replay.parquet` inside
the model's artifact: it is read from there when the version names no run artifact.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient

REPLAY_DIR = "replay"
LEGACY_FILE = "replay.parquet"


def replay_path(version: str) -> str:
    """The run artifact path of a version's replay rows."""
    return f"{REPLAY_DIR}/version-{version}.parquet"


def log_replay(client: MlflowClient, run_id: str, version: str, rows: pd.DataFrame) -> str:
    """Store a version's replay rows on its run; the artifact path, or "" when there are none."""
    if rows.empty:
        return ""
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / Path(replay_path(version)).name
        rows.to_parquet(local, index=False)
        client.log_artifact(run_id, str(local), REPLAY_DIR)
    return replay_path(version)


def load_replay(
    client: MlflowClient,
    run_id: str,
    artifact: str,
    cache: Path,
    model_folder: Path,
    columns: list[str],
) -> pd.DataFrame:
    """A version's replay rows: from its run (cached in `cache`), an older model, or none."""
    if artifact:
        if not cache.is_file():
            cache.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=cache.parent) as tmp:
                os.replace(client.download_artifacts(run_id, artifact, tmp), cache)
        return pd.read_parquet(cache)
    if (model_folder / LEGACY_FILE).is_file():
        return pd.read_parquet(model_folder / LEGACY_FILE)
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
