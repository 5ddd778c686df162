"""Continual learning on a real MLflow store: gate, resume, rollback, escalation, tasks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from driftloop.app.stream import CATEGORICAL, NUMERIC, TARGET, make_stream
from driftloop.core.config import Config, config_from_dict
from driftloop.drift import build_profile
from driftloop.flows.options import model_options
from driftloop.models import (
    ChallengeRequest,
    bootstrap_model,
    challenge,
    connect,
    list_moves,
    load_champion,
    load_version,
    rollback,
)
from driftloop.models.data import split_frame
from driftloop.models.finetune import finetune
from driftloop.models.replay_store import load_live
from driftloop.models.tracking import start_batch_run
from driftloop.models.version_record import read_record

TINY = {
    "training": {"hidden_units": [16], "epochs": 25, "patience": 3, "seed": 7},
    "finetune": {"epochs": 15, "replay_rows": 400, "tensorboard": True},
}


def _cfg(tmp_path: Path, **sections: Any) -> Config:
    data = {
        "work_dir": str(tmp_path / "work"),
        "model": {"name": "m", "target": TARGET},
        "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
        **TINY,
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    cfg = config_from_dict(data, tmp_path / "driftloop.toml")
    cfg.ensure_dirs()
    return cfg


def _bootstrap(cfg: Config, frame: pd.DataFrame) -> str:
    profile = build_profile(frame, cfg.features.numeric, cfg.features.categorical).to_dict()
    return str(bootstrap_model(frame, profile, model_options(cfg), "boot.csv", "sha-boot").version)


def _client(cfg: Config) -> Any:
    return connect(model_options(cfg).store)


def _champion(cfg: Config) -> Any:
    return load_champion(model_options(cfg).store, _client(cfg), cfg.model.name)


def _challenge(cfg: Config, frame: pd.DataFrame, name: str, from_scratch: bool = False):
    opts = model_options(cfg)
    client = connect(opts.store)
    champion = load_champion(opts.store, client, cfg.model.name)
    run_id = start_batch_run(client, opts.store.experiment, name, {"batch": name}, {})
    profile = build_profile(frame, cfg.features.numeric, cfg.features.categorical).to_dict()
    request = ChallengeRequest(name, f"sha-{name}", run_id, "test", from_scratch)
    return challenge(champion, frame, profile, opts, client, request)


def _aliases(cfg: Config) -> dict[str, str]:
    aliases = _client(cfg).get_registered_model(cfg.model.name).aliases
    return {k: str(v) for k, v in aliases.items()}


def test_gate_rejects_a_challenger_trained_on_shuffled_labels(tmp_path: Path) -> None:
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    assert _bootstrap(cfg, stream.bootstrap) == "1"
    batch = stream.batches[1].frame.copy()
    batch[TARGET] = np.random.default_rng(0).permutation(batch[TARGET].to_numpy())
    out = _challenge(cfg, batch, "shuffled")
    d = out.decision
    assert not d.promote and out.challenger_version == "2" and out.champion_version == "1"
    assert d.checks["improvement"] == "fail"
    assert _aliases(cfg) == {"champion": "1"}
    mv = _client(cfg).get_model_version("m", "2")
    tags, record = mv.tags, read_record(_client(cfg), mv)
    assert tags["driftloop.gate"] == "rejected" and tags["driftloop.parent_version"] == "1"
    assert record.gate is not None and record.gate.checks["improvement"] == "fail"
    assert record.gate.mlflow_validation.startswith("failed: ")  # MLflow's validation agrees
    assert "holdout_accuracy" in record.gate.mlflow_validation
    run = _client(cfg).get_run(record.run_id)
    assert run.data.metrics["gate_promoted"] == 0.0
    assert "gate_accuracy_new_challenger" in run.data.metrics
    assert any(a.path == "tensorboard" for a in _client(cfg).list_artifacts(run.info.run_id))


def test_concept_change_is_adapted_and_forgetting_guard_skipped(tmp_path: Path) -> None:
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    _bootstrap(cfg, stream.bootstrap)
    out = _challenge(cfg, stream.batches[10].frame, "concept")
    assert out.concept_changed and out.decision.promote and out.kind == "finetune"
    assert out.decision.checks["forgetting"].startswith("skipped: concept change")
    moves = [(m.alias, m.from_version, m.to_version) for m in list_moves(_client(cfg), "m")]
    assert moves == [("champion", None, "1"), ("previous", None, "1"), ("champion", "1", "2")]
    # The old rule's labels are neither replayed nor kept: the buffer restarts from this batch.
    client = _client(cfg)
    run_id = client.get_model_version("m", "2").run_id
    assert client.get_run(run_id).data.metrics["challenger_replay_rows"] == 0.0
    champion = _champion(cfg)
    live, batches = load_live(model_options(cfg).replay.root, champion)
    counts = stream.batches[10].frame[TARGET].value_counts()
    assert batches == ["sha-concept"] and live.seen == {str(k): v for k, v in counts.items()}
    fit_part, _ = split_frame(stream.batches[10].frame, cfg.finetune.holdout_fraction, 7)
    assert sum(champion.replay_buffer.seen.values()) == len(fit_part) == 420


def test_every_version_keeps_its_predictions_for_the_prediction_drift_test(
    tmp_path: Path,
) -> None:
    from driftloop.drift import PREDICTION_FEATURE, ReferenceProfile, detect_drift
    from driftloop.models.serving import predict_proba

    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    _bootstrap(cfg, stream.bootstrap)
    champion = _champion(cfg)
    profile = ReferenceProfile.from_dict(champion.profile)
    assert profile.prediction is not None
    assert profile.prediction.shape == (len(stream.bootstrap), len(champion.meta["classes"]))

    def prediction_drift(frame: pd.DataFrame) -> bool:
        proba = predict_proba(champion.model, frame, champion.meta)
        report = detect_drift(profile, frame, batch_predictions=proba)
        return next(f.drifted for f in report.features if f.feature == PREDICTION_FEATURE)

    drifted = [prediction_drift(stream.batches[i].frame) for i in (1, 2, 3, 4, 5)]
    assert drifted == [False, False, False, True, True]  # the covariate shift starts at 4
    assert _challenge(cfg, stream.batches[4].frame, "shifted").challenger_version == "2"
    store = model_options(cfg).store
    challenger = ReferenceProfile.from_dict(load_version(store, _client(cfg), "m", "2").profile)
    assert challenger.prediction is not None and challenger.prediction.shape[0] == 600


def test_promotion_is_refused_when_the_champion_moved_meanwhile(tmp_path: Path) -> None:
    """Compare-and-set: a challenger made from v1 does not replace a champion that is now v2."""
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    _bootstrap(cfg, stream.bootstrap)
    client = _client(cfg)
    opts = model_options(cfg)
    parent = _champion(cfg)  # the retrain starts from v1 ...
    profile = build_profile(stream.bootstrap, NUMERIC, CATEGORICAL).to_dict()
    # ... while someone else crowns v2.
    bootstrap_model(stream.bootstrap, profile, opts, "boot2.csv", "sha-boot2", force=True)
    frame = stream.batches[10].frame
    run_id = start_batch_run(client, opts.store.experiment, "concept", {"batch": "concept"}, {})
    request = ChallengeRequest("concept", "sha-concept", run_id, "test")
    out = challenge(parent, frame, profile, opts, client, request)
    d = out.decision
    assert out.concept_changed and d.checks["improvement"] == "pass"  # the gate alone would promote
    assert not d.promote and d.checks["champion_unchanged"] == "fail"
    assert "moved from version 1 to 2 while version 3 was being made" in d.reason
    assert (out.challenger_version, out.champion_version) == ("3", "2")
    assert _aliases(cfg)["champion"] == "2"
    v3 = _client(cfg).get_model_version("m", "3")
    assert v3.tags["driftloop.gate"] == "rejected" and v3.tags["driftloop.parent_version"] == "1"
    gate = read_record(_client(cfg), v3).gate
    assert gate is not None and gate.checks["champion_unchanged"] == "fail"
    assert all(m.to_version != "3" for m in list_moves(_client(cfg), "m"))


def test_rollback_restores_the_exact_previous_version_for_any_client(tmp_path: Path) -> None:
    import mlflow

    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path)
    _bootstrap(cfg, stream.bootstrap)
    _challenge(cfg, stream.batches[10].frame, "concept")
    client = _client(cfg)
    mlflow.set_tracking_uri(cfg.mlflow_uri)  # as any plain MLflow client of the store does
    assert _aliases(cfg) == {"champion": "2", "previous": "1"}
    assert rollback(client, "m") == ("2", "1")
    assert _aliases(cfg) == {"champion": "1"}
    loaded = mlflow.pyfunc.load_model("models:/m@champion")
    assert loaded.metadata.run_id == client.get_model_version("m", "1").run_id
    frame = stream.bootstrap.head(50).drop(columns=TARGET)
    direct = mlflow.pyfunc.load_model("models:/m/1").predict(frame)
    pd.testing.assert_frame_equal(loaded.predict(frame), direct)
    # --to brings a named version back; the history records every move with its trigger.
    assert rollback(client, "m", to="2") == ("1", "2")
    assert _aliases(cfg) == {"champion": "2", "previous": "1"}
    last = list_moves(client, "m")[-2:]
    assert [(m.alias, m.from_version, m.to_version, m.trigger) for m in last] == [
        ("champion", "1", "2", "manual"),
        ("previous", None, "1", "manual"),
    ]
    with pytest.raises(Exception, match="no version 9"):
        rollback(client, "m", to="9")


def test_rejections_in_a_row_escalate_to_a_retrain_from_scratch(tmp_path: Path) -> None:
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path, gate={"escalate_after": 2, "min_improvement": 0.5})
    _bootstrap(cfg, stream.bootstrap)
    kinds = [_challenge(cfg, stream.batches[i].frame, f"b{i}").kind for i in (1, 2, 3)]
    assert kinds == ["finetune", "finetune", "scratch"]
    v4 = _client(cfg).get_model_version("m", "4")
    assert v4.tags["driftloop.kind"] == "scratch"
    assert read_record(_client(cfg), v4).lineage.escalated is True


def test_a_killed_finetune_resumes_from_its_checkpoint(tmp_path: Path) -> None:
    stream = make_stream(seed=3, rows=600)
    cfg = _cfg(tmp_path, finetune={"epochs": 40}, training={"patience": 40})
    _bootstrap(cfg, stream.bootstrap)
    champion = _champion(cfg)
    fit_part, _ = split_frame(stream.batches[10].frame, 0.3, 0)
    fit_part.to_parquet(tmp_path / "fit.parquet")
    checkpoint = tmp_path / "ckpt"
    cfg_json = json.dumps(cfg.model_dump(mode="json", exclude={"source"}))
    script = f"""
import json, pathlib, time
import keras, pandas as pd
from driftloop.core.config import config_from_dict
from driftloop.models.finetune import finetune
from driftloop.models.replay_store import load_live

class Slow(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        print("epoch", epoch, flush=True)
        time.sleep(0.5)

from driftloop.flows.options import model_options
opts = model_options(config_from_dict(json.loads({cfg_json!r})))
model = keras.saving.load_model({str(champion.folder / "model.keras")!r})
meta = json.loads(pathlib.Path({str(champion.folder / "meta.json")!r}).read_text())
finetune(model, meta, pd.read_parquet({str(tmp_path / "fit.parquet")!r}), pd.DataFrame(),
         opts.finetune, opts.replay.fraction, checkpoint_dir=pathlib.Path({str(checkpoint)!r}),
         callbacks=[Slow()])
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        stderr=(tmp_path / "child.err").open("w"),
        text=True,
        start_new_session=True,
    )
    seen = []
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("epoch"):
            seen.append(int(line.split()[1]))
        if len(seen) >= 4:
            break
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    err = (tmp_path / "child.err").read_text()[-2000:]
    assert len(seen) >= 4, f"the fine-tune subprocess did not reach 4 epochs: {err}"
    assert any(checkpoint.iterdir()), "no backup was written before the kill"
    model = champion.fresh_model()
    opts = model_options(cfg)
    tuned = finetune(
        model,
        champion.meta,
        fit_part,
        pd.DataFrame(),
        opts.finetune,
        opts.replay.fraction,
        checkpoint_dir=checkpoint,
    )
    assert tuned.metrics["resumed_from_epoch"] >= 3
    assert not checkpoint.exists() or not any(checkpoint.iterdir())


def test_regression_and_multiclass_models_go_round_the_loop(tmp_path: Path) -> None:
    import mlflow

    rng = np.random.default_rng(5)
    n = 800

    def frame(shift: float) -> pd.DataFrame:
        f = pd.DataFrame(
            {
                "x1": rng.normal(shift, 1, n),
                "x2": rng.normal(0, 1, n),
                "x3": rng.uniform(-2, 2, n),
                "c1": rng.choice(list("abcd"), n),
                "c2": rng.choice(["low", "mid", "high"], n),
            }
        )
        f[TARGET] = 3 * np.sin(f["x1"]) + 2 * f["x2"] + (f["c1"] == "a") + rng.normal(0, 0.2, n)
        return f

    reg = _cfg(tmp_path / "reg", model={"task": "regression"})
    mlflow.set_tracking_uri(reg.mlflow_uri)  # as any plain MLflow client of the store does
    _bootstrap(reg, frame(0.0))
    out = _challenge(reg, frame(2.5), "shifted")
    assert out.decision.metric == "rmse" and out.decision.promote
    pred = mlflow.pyfunc.load_model("models:/m@champion").predict(frame(2.5).drop(columns=TARGET))
    assert list(pred.columns) == ["prediction"] and pred["prediction"].dtype == "float64"

    multi = _cfg(tmp_path / "multi")
    mlflow.set_tracking_uri(multi.mlflow_uri)
    three = frame(0.0).assign(**{TARGET: lambda f: np.digitize(f[TARGET], [-1.0, 1.5])})
    _bootstrap(multi, three)
    out = mlflow.pyfunc.load_model("models:/m@champion").predict(three.drop(columns=TARGET))
    assert list(out.columns) == ["prediction", "proba_0", "proba_1", "proba_2"]
    assert (out["prediction"] == three[TARGET]).mean() > 0.7
