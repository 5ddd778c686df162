"""Any column name CSV, Parquet or JSON can carry works from bootstrap to a plain MLflow client."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftloop.core.config import load_config
from driftloop.models.build import build_model, feature_meta
from driftloop.models.serving import INPUT_NAMES, predict_outputs
from tests.helpers import TINY_SETTINGS, cli, make_project

LONG = "long " + "n" * 195  # 200 characters
# The demo stream's columns renamed: spaces, punctuation, unicode, a leading digit, a quote
# and a comma, names that differ only in case, a 200-character name.
RENAMED = {
    "x1": "x 1 (kg/m²)",
    "x2": "2nd-reading",
    "x3": "Ünïcødé 名前",
    "c1": "c1: city/region",
    "c2": "c2",
}
NUMERIC = ["x 1 (kg/m²)", "2nd-reading", "Ünïcødé 名前", "C2", LONG, 'say "hi", ok']
CATEGORICAL = ["c1: city/region", "c2"]


def _messy(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = frame.rename(columns=RENAMED)
    return out.assign(
        **{"C2": rng.normal(size=len(out)), LONG: rng.normal(size=len(out))},
        **{'say "hi", ok': rng.normal(size=len(out))},
    )


def test_generated_column_names_work_through_bootstrap_run_and_a_plain_client(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path, TINY_SETTINGS)
    text = project.config.read_text(encoding="utf-8")
    text = text.replace('numeric = ["x1", "x2", "x3"]', f"numeric = {json.dumps(NUMERIC)}")
    text = text.replace('categorical = ["c1", "c2"]', f"categorical = {json.dumps(CATEGORICAL)}")
    project.config.write_text(text, encoding="utf-8")
    boot = tmp_path / "messy.csv"
    _messy(project.stream.bootstrap, 1).to_csv(boot, index=False)
    cfg = str(project.config)
    res = cli("bootstrap", "--config", cfg, "--data", str(boot))
    assert res.code == 0, res.err

    batches = project.stream.batches
    landing = project.work / "landing"
    stable, shifted = landing / "stable.parquet", landing / "shifted.jsonl"
    _messy(batches[0].frame, 2).to_parquet(stable, index=False)
    later = _messy(batches[5].frame, 3)
    later.to_json(shifted, orient="records", lines=True, force_ascii=False)
    later.to_csv(tmp_path / "later.csv", index=False)  # the batch file moves to processed/
    os.utime(stable, ns=(10**9 * 1000,) * 2)
    os.utime(shifted, ns=(10**9 * 1001,) * 2)
    run = cli("run", "--config", cfg, "--json")
    assert run.code == 0, run.err
    first, second = run.json_lines()
    assert (first["batch"], first["status"], first["drift"]) == (
        "stable.parquet",
        "processed",
        False,
    )
    assert set(first["p_values"]) == {*NUMERIC, *CATEGORICAL, "__accuracy__", "__prediction__"}
    # The demo's batch 5 shifts x1 and c1 (reported under the users' own names) and its labels
    # follow a changed rule: the fine-tuned challenger wins and becomes version 2.
    assert (second["batch"], second["status"], second["drift"]) == (
        "shifted.jsonl",
        "processed",
        True,
    )
    assert [f for f in second["drifted_features"] if not f.startswith("__")] == [
        "x 1 (kg/m²)",
        "c1: city/region",
    ]
    assert (second["action"], second["champion_version"]) == ("promoted", "2")

    uri = load_config(project.config).mlflow_uri
    script = f"""
import json, sys, mlflow, pandas as pd
mlflow.set_tracking_uri({uri!r})
first = mlflow.pyfunc.load_model("models:/test-model/1")
model = mlflow.pyfunc.load_model("models:/test-model@champion")
frame = pd.read_csv({str(boot)!r}).head(300)
later = pd.read_csv({str(tmp_path / "later.csv")!r})
def acc(m, f):
    return float((m.predict(f.drop(columns="label"))["prediction"] == f["label"]).mean())
out = model.predict(later.drop(columns="label"))
mine = ("driftloop", "drift", "models", "flows")
print(json.dumps({{"acc": acc(first, frame), "old": acc(first, later), "new": acc(model, later),
    "cols": list(out.columns), "inputs": model.metadata.get_input_schema().input_names(),
    "ours": sorted(m for m in sys.modules if m.split(".")[0] in mine)}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd="/")
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["cols"] == ["prediction", "proba_0", "proba_1"]
    assert got["inputs"] == [*NUMERIC, *CATEGORICAL]
    assert got["acc"] > 0.8
    # The plain client scores the batch exactly as driftloop's run did, and the promoted
    # version does better on it than version 1.
    assert got["old"] == pytest.approx(second["accuracy_batch"], abs=1e-12)
    assert got["new"] > got["old"]
    assert got["ours"] == []


def test_a_model_whose_inputs_carry_the_raw_column_names_still_serves() -> None:
    """Models logged before the safe names fed each input by its column's own name."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x1": rng.normal(size=64), "c1": rng.choice(["a", "b"], 64)})
    frame["label"] = (frame["x1"] > 0).astype(int)
    meta = feature_meta(frame, ["x1"], ["c1"], "label", "classification", [0, 1])
    meta[INPUT_NAMES] = {"x1": "x1", "c1": "c1"}  # build it as the old code did
    model = build_model(frame, meta, [4], seed=0)
    old_meta = {k: v for k, v in meta.items() if k != INPUT_NAMES}  # its meta.json had no map
    assert sorted(i.name for i in model.inputs) == ["c1", "x1"]
    direct = model(
        {
            "x1": frame[["x1"]].to_numpy(dtype="float32"),
            "c1": frame[["c1"]].to_numpy(dtype=object),
        },
        training=False,
    )
    np.testing.assert_allclose(predict_outputs(model, frame, old_meta), np.asarray(direct))
