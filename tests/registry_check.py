"""A real registry with a bootstrap and a promotion, and the registry view checked against it.

Used on SQLite (tests/behaviour), PostgreSQL and an `mlflow server` (tests/integration): the
view's answers must equal `MlflowClient`'s on each, and `status` must read as it did through
MLflow.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from mlflow.tracking import MlflowClient

from driftloop.app.status import collect_status
from driftloop.app.stream import CATEGORICAL, NUMERIC, TARGET, make_stream
from driftloop.core.config import Config, config_from_dict
from driftloop.drift import build_profile
from driftloop.flows.options import model_options
from driftloop.models import ChallengeRequest, bootstrap_model, challenge, connect, load_champion
from driftloop.models.registry import CHAMPION, PREVIOUS
from driftloop.models.registry_entries import RegistryView
from driftloop.models.tracking import start_batch_run
from driftloop.models.version_record import TAG, read_record, record_path

NAME = "m"
TINY = {
    "training": {"hidden_units": [16], "epochs": 25, "patience": 3, "seed": 7},
    "finetune": {"epochs": 15, "replay_rows": 400, "tensorboard": False},
}


def registry_config(tmp_path: Path, tracking_uri: str = "", ledger_url: str = "") -> Config:
    """A tiny project config on the given tracking store (empty: SQLite in the work folder)."""
    data: dict[str, Any] = {
        "work_dir": str(tmp_path / "work"),
        "model": {"name": NAME, "target": TARGET},
        "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
        **TINY,
    }
    if tracking_uri:
        data["tracking"] = {"tracking_uri": tracking_uri}
    if ledger_url:
        data["ingest"] = {"ledger_url": ledger_url}
    cfg = config_from_dict(data, tmp_path / "driftloop.toml")
    cfg.ensure_dirs()
    return cfg


def bootstrap_and_promote(cfg: Config) -> MlflowClient:
    """Version 1 by bootstrap, version 2 fine-tuned on a shifted batch and promoted (seeded)."""
    stream = make_stream(seed=3, rows=600)
    opts = model_options(cfg)
    profile = build_profile(stream.bootstrap, NUMERIC, CATEGORICAL).to_dict()
    bootstrap_model(stream.bootstrap, profile, opts, "boot.csv", "sha-boot")
    client = connect(opts.store)
    frame = stream.batches[5].frame
    run_id = start_batch_run(client, opts.store.experiment, "shifted.csv", {}, {})
    out = challenge(
        load_champion(opts.store, client, NAME),
        frame,
        build_profile(frame, NUMERIC, CATEGORICAL).to_dict(),
        opts,
        client,
        ChallengeRequest("shifted.csv", "sha-b", run_id),
    )
    assert out.decision.promote, out.decision.reason
    return client


def _same_metrics(got: dict[str, float], want: dict[str, float]) -> bool:
    """Equal keys in the same order and equal values (NaN equal to NaN)."""
    return list(got) == list(want) and all(
        got[k] == want[k] or (math.isnan(got[k]) and math.isnan(want[k])) for k in want
    )


def assert_view_matches_client(view: RegistryView, client: MlflowClient) -> None:
    """Every answer of the view equals the client's for the model, both versions and runs."""
    rm = client.get_registered_model(NAME)
    model = view.model(NAME)
    assert model is not None and model.name == rm.name
    assert model.aliases == {CHAMPION: "2", PREVIOUS: "1"}
    assert model.aliases == {k: str(v) for k, v in rm.aliases.items()}
    assert list(model.tags.items()) == list(rm.tags.items())
    assert len([k for k in model.tags if k.startswith(TAG + "move.")]) == 3
    for number in ("1", "2"):
        mv = client.get_model_version(NAME, number)
        got = view.version(NAME, number)
        assert got is not None and (got.name, got.version) == (NAME, number)
        assert got.run_id == mv.run_id and got.run_id
        assert list(got.tags.items()) == list(mv.tags.items())
        metrics = client.get_run(mv.run_id).data.metrics
        assert metrics and _same_metrics(view.run_metrics(mv.run_id), metrics)
        text = view.run_artifact(mv.run_id, record_path(number))
        assert text is not None and json.loads(text) == asdict(read_record(client, mv))
    assert view.version(NAME, "3") is None and view.version("nobody", "1") is None
    assert view.model("nobody") is None
    assert view.run_artifact(mv.run_id, "driftloop/no-such-file.json") is None


def status_through_mlflow(cfg: Config, client: MlflowClient) -> dict[str, Any]:
    """`collect_status` as it was read through MlflowClient before the view (the oracle)."""
    champion = str(client.get_model_version_by_alias(NAME, CHAMPION).version)
    mv = client.get_model_version(NAME, champion)
    tags = {k.removeprefix(TAG): v for k, v in mv.tags.items() if k.startswith(TAG)}
    info = collect_status(cfg)
    info["champion"] = {
        "version": champion,
        "run_id": mv.run_id,
        "tags": tags,
        "record": asdict(read_record(client, mv)),
        "metrics": dict(client.get_run(mv.run_id).data.metrics),
    }
    info["champion_version"] = champion
    info["previous_version"] = str(client.get_model_version_by_alias(NAME, PREVIOUS).version)
    return info
