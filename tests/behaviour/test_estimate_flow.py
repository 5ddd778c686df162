"""The label-free estimate through `driftloop run`: record, signal, MLflow run, at-risk mark."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from mlflow.tracking import MlflowClient

from driftloop.app.stream import TARGET, make_batch
from driftloop.core.config import load_config
from driftloop.flows.options import model_options
from driftloop.models import connect, load_champion
from driftloop.models.serving import predict_proba
from tests.helpers import cli, make_project


def test_an_estimated_drop_without_labels_marks_the_champion_at_risk(tmp_path: Path) -> None:
    project = make_project(tmp_path, extra='[labels]\ntrigger = "estimate"\n')
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    cfg = load_config(project.config)
    opts = model_options(cfg)
    champion = load_champion(opts.store, connect(opts.store), cfg.model.name)
    # Rows near the champion's decision boundary: a covariate shift it is unsure about.
    pool = make_batch(np.random.default_rng(5), 20_000, shifted=False, concept=0)
    confidence = predict_proba(champion.model, pool, champion.meta).max(axis=1)
    unsure = pool.iloc[np.argsort(confidence)[:400]].reset_index(drop=True)
    stable = project.stream.batches[0].frame
    batches = [
        ("a-labelled.csv", stable),
        ("b-same.csv", stable.drop(columns=TARGET).sample(frac=1.0, random_state=1)),
        ("c-unsure.csv", unsure.drop(columns=TARGET)),
    ]
    for i, (name, frame) in enumerate(batches):
        os.utime(project.drop(frame, name), ns=(10**9 * (1000 + i),) * 2)
    res = cli("run", "--config", cfg_path, "--json")
    assert res.code == 0, res.err
    recs = {r["batch"]: r for r in res.json_lines()}

    # A labelled batch: estimate and realized accuracy side by side, the realized in the band.
    lab = recs["a-labelled.csv"]
    assert lab["labelled"] and lab["action"] == "none"
    assert lab["estimate_low"] <= lab["score_batch"] <= lab["estimate_high"]
    assert abs(lab["estimated_score"] - lab["score_batch"]) < 0.03
    assert "__estimated_accuracy__" not in lab["p_values"]  # the realized test is better

    same = recs["b-same.csv"]
    assert same["estimated_score"] == pytest.approx(lab["estimated_score"])  # same rows, no labels
    assert same["action"] == "none" and "__estimated_accuracy__" in same["p_values"]
    assert not same["drift"]

    un = recs["c-unsure.csv"]
    reference = champion.reference_accuracy
    assert un["estimate_high"] < reference - 0.1 and un["drift"]
    assert "__estimated_accuracy__" in un["drifted_features"]
    assert un["action"] == "at-risk" and un["champion_version"] == "1"
    assert 'champion marked at risk ([labels] trigger = "estimate")' in un["reason"]
    client = MlflowClient(tracking_uri=cfg.mlflow_uri)
    tag = client.get_model_version(cfg.model.name, "1").tags["driftloop.at_risk"]
    assert tag.startswith("c-unsure.csv: estimated accuracy ")
    run = client.get_run(un["mlflow_run_id"])
    assert run.data.metrics["estimated_accuracy"] == un["estimated_score"]
    assert run.data.metrics["estimated_accuracy_high"] == un["estimate_high"]
