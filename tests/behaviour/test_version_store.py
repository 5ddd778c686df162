"""Model versions as MLflow users expect: no training rows in the model, a record per version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import pandas as pd
from pytest import approx

from driftloop.app.stream import CATEGORICAL, NUMERIC, TARGET, make_stream
from driftloop.core.config import Config, config_from_dict
from driftloop.drift import build_profile
from driftloop.flows.options import model_options
from driftloop.models import ChallengeRequest, bootstrap_model, challenge, connect, load_champion
from driftloop.models.champion import load_version
from driftloop.models.replay_artifact import replay_path
from driftloop.models.tracking import at_store, start_batch_run
from driftloop.models.version_record import SEARCHABLE, TAG, read_record, record_path

TINY = {
    "training": {"hidden_units": [16], "epochs": 25, "patience": 3, "seed": 7},
    "finetune": {"epochs": 15, "replay_rows": 400, "tensorboard": False},
}


def _cfg(tmp_path: Path, replay_rows: int = 400) -> Config:
    data = {
        "work_dir": str(tmp_path / "work"),
        "model": {"name": "m", "target": TARGET},
        "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
        **TINY,
    }
    data["finetune"] = {**TINY["finetune"], "replay_rows": replay_rows}
    cfg = config_from_dict(data, tmp_path / "driftloop.toml")
    cfg.ensure_dirs()
    return cfg


def _bootstrap(cfg: Config, frame: pd.DataFrame) -> None:
    profile = build_profile(frame, NUMERIC, CATEGORICAL).to_dict()
    bootstrap_model(frame, profile, model_options(cfg), "boot.csv", "sha-boot")


def _challenge(cfg: Config, frame: pd.DataFrame, name: str) -> Any:
    opts = model_options(cfg)
    client = connect(opts.store)
    champion = load_champion(opts.store, client, "m")
    run_id = start_batch_run(client, opts.store.experiment, name, {"batch": name}, {})
    profile = build_profile(frame, NUMERIC, CATEGORICAL).to_dict()
    return challenge(
        champion, frame, profile, opts, client, ChallengeRequest(name, "sha-b", run_id)
    )


def _local(uri: str) -> Path:
    return Path(urlparse(uri).path)


def _model_root(client: Any, mv: Any) -> Path:
    """The folder of a version's model artifact (its source, a LoggedModel)."""
    return _local(client.get_logged_model(mv.source.removeprefix("models:/")).artifact_location)


def _model_files(client: Any, name: str, version: str) -> list[str]:
    """Every file of the registered version's model artifact."""
    root = _model_root(client, client.get_model_version(name, version))
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_a_version_keeps_replay_rows_on_its_run_and_the_rest_in_its_record(tmp_path) -> None:
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    _bootstrap(cfg, stream.bootstrap)
    out = _challenge(cfg, stream.batches[5].frame, "shifted.csv")
    client = connect(model_options(cfg).store)
    for version in ("1", "2"):
        files = _model_files(client, "m", version)
        assert not [f for f in files if f.endswith(".parquet")], files
        assert "input_example.json" in files and "artifacts/model.keras" in files
    mv = client.get_model_version("m", "2")
    record = read_record(client, mv)
    assert set(mv.tags) == {TAG + k for k in SEARCHABLE}
    found = client.search_model_versions("name = 'm' and tags.`driftloop.parent_version` = '1'")
    assert [str(v.version) for v in found] == ["2"]
    assert mv.tags[TAG + "gate"] == ("promoted" if out.decision.promote else "rejected")
    assert mv.tags[TAG + "parent_version"] == "1" and mv.tags[TAG + "batch"] == "shifted.csv"
    assert record.lineage.kind == "finetune" and record.lineage.trigger == "manual"
    assert record.gate is not None and record.gate.checks == out.decision.checks
    assert record.gate.reason == out.decision.reason and record.gate.max_forgetting == 0.02
    assert record.gate.challenger_new == out.decision.challenger_new
    # The same comparison as MLflow evaluations on the run, validated by MLflow's thresholds.
    metrics = client.get_run(mv.run_id).data.metrics
    assert metrics["challenger_holdout_accuracy"] == approx(out.decision.challenger_new)
    assert metrics["champion_holdout_accuracy"] == approx(out.decision.champion_new)
    logged = client.get_logged_model(mv.source.removeprefix("models:/"))
    assert [(m.key, m.dataset_name) for m in logged.metrics] == [
        ("challenger_holdout_accuracy", "gate-holdout")
    ]
    assert logged.metrics[0].value == approx(out.decision.challenger_new)
    assert out.decision.checks["improvement"] == "pass"
    assert record.gate.mlflow_validation == "passed"
    assert record.replay.artifact == replay_path("2") == "replay/version-2.parquet"
    artifacts = {a.path for a in client.list_artifacts(mv.run_id, "replay")}
    assert artifacts == {"replay/version-2.parquet"}
    rows = pd.read_parquet(client.download_artifacts(mv.run_id, record.replay.artifact, tmp_path))
    assert len(rows) == record.replay.rows and 300 < len(rows) <= 400 and TARGET in rows.columns
    model_root = _model_root(client, mv)
    example = json.loads((model_root / "input_example.json").read_text())
    assert example["columns"] == [*NUMERIC, *CATEGORICAL] and len(example["data"]) == 5
    where_rows = "replay/version-2.parquet (none when replay_rows = 0); both on the source run."
    made = "Fine-tuned from version 1 on shifted.csv plus replayed rows. Gate: "
    assert mv.description.startswith(made)
    assert mv.description.endswith("driftloop/version-2.json; replay rows: " + where_rows)


def test_loading_the_champion_downloads_no_replay_rows_until_they_are_replayed(tmp_path) -> None:
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    _bootstrap(cfg, stream.bootstrap)
    store = model_options(cfg).store
    client = connect(store)
    with at_store(client):
        served = mlflow.pyfunc.load_model("models:/m@champion")
    assert sorted(served._model_impl.context.artifacts) == ["keras_model", "meta", "profile"]
    champion = load_champion(store, client, "m")
    assert not list(store.cache.rglob("*.parquet"))
    seen = read_record(client, client.get_model_version("m", "1")).replay.seen
    assert sum(seen.values()) == len(stream.bootstrap) and set(seen) == {"0", "1"}
    assert len(champion.replay) == 400 and champion.replay_buffer.seen == seen
    assert [p.name for p in store.cache.rglob("*.parquet")] == ["1-replay.parquet"]


def test_replay_rows_zero_runs_bootstrap_and_a_drifted_batch_through_fine_tune_and_gate(
    tmp_path,
) -> None:
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path, replay_rows=0)
    _bootstrap(cfg, stream.bootstrap)
    out = _challenge(cfg, stream.batches[5].frame, "shifted.csv")
    client = connect(model_options(cfg).store)
    assert out.kind == "finetune" and out.challenger_version == "2"
    assert set(out.decision.checks) >= {"improvement", "forgetting"}
    for version in ("1", "2"):
        mv = client.get_model_version("m", version)
        record = read_record(client, mv)
        assert record.replay.rows == 0 and record.replay.artifact == ""
        assert not client.list_artifacts(mv.run_id, "replay")
    assert read_record(client, client.get_model_version("m", "2")).gate is not None


def test_a_version_of_an_older_release_keeps_its_replay_rows_and_tags(tmp_path) -> None:
    """Older releases: replay.parquet inside the model, everything else in version tags."""
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    _bootstrap(cfg, stream.bootstrap)
    store = model_options(cfg).store
    client = connect(store)
    mv = client.get_model_version("m", "1")
    record = read_record(client, mv)
    run_root = _local(client.get_run(mv.run_id).info.artifact_uri)
    old_rows = pd.read_parquet(run_root / record.replay.artifact)
    shutil.rmtree(run_root / "replay")
    (run_root / record_path("1")).unlink()
    model_root = _model_root(client, mv)
    old_rows.to_parquet(model_root / "artifacts" / "replay.parquet", index=False)
    old_tags = {
        "run_id": mv.run_id,
        "kind": "initial",
        "trigger": "bootstrap:boot.csv",
        "reference_rows": "180",
        "replay_seen": json.dumps({"0": 1, "1": 599}),
    }
    for key, value in old_tags.items():
        client.set_model_version_tag("m", "1", TAG + key, value)
    old = load_version(store, client, "m", "1")
    assert old.record.lineage.trigger == "bootstrap:boot.csv" and old.reference_rows == 180
    assert old.record.reference.score == round(record.reference.score, 6)
    pd.testing.assert_frame_equal(old.replay, old_rows)
    assert old.replay_buffer.seen == {"0": 1, "1": 599}


def test_a_process_loads_the_champion_once_until_its_version_changes(tmp_path) -> None:
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    _bootstrap(cfg, stream.bootstrap)
    opts = model_options(cfg)
    client = connect(opts.store)
    first = load_champion(opts.store, client, "m")
    assert load_champion(opts.store, connect(opts.store), "m") is first  # another run, same one
    assert first.reference is first.reference  # the profile is parsed once
    assert load_version(opts.store, client, "m", "1") is not first  # a recall reads it anew
    client.update_model_version("m", "1", description="changed by hand")
    again = load_champion(opts.store, client, "m")
    assert again is not first and again.version == "1"
    assert _challenge(cfg, stream.batches[5].frame, "shifted.csv").decision.promote
    promoted = load_champion(opts.store, client, "m")
    assert promoted.version == "2" and load_champion(opts.store, client, "m") is promoted
