"""Labels written as 1.0 in the training file and 1 in the batches are one class, and the served
model (logged from code, no pickle) takes the frame pandas reads from the training file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

from driftloop.core.config import load_config
from driftloop.ingest import Ledger
from tests.helpers import TINY_SETTINGS, Project, cli, make_project

FEATURES = """numeric = ["x1", "x2", "x3", "n"]
categorical = ["c1", "c2", "flag", "code"]
"""


def _natural(frame: pd.DataFrame) -> pd.DataFrame:
    """The demo frame plus an int feature, a boolean one and an int-coded category."""
    return frame.assign(
        n=(frame["x1"] * 10).round().astype("int64"),
        flag=frame["x2"] > 0,
        code=(frame["x3"] > 1).astype("int64") + 7,
    )


def _project(tmp_path: Path) -> Project:
    project = make_project(tmp_path, TINY_SETTINGS)
    text = project.config.read_text().replace(
        'numeric = ["x1", "x2", "x3"]\ncategorical = ["c1", "c2"]\n', FEATURES
    )
    project.config.write_text(text)
    boot = _natural(project.stream.bootstrap)
    boot.assign(label=boot["label"].astype("float64")).to_csv(project.bootstrap_csv, index=False)
    return project


def test_float_labels_in_training_and_int_labels_in_batches_are_one_class(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    assert "1.0" in project.bootstrap_csv.read_text().splitlines()[1]  # labels written as 1.0
    boot = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert boot.code == 0, boot.err
    batch = _natural(project.stream.batches[0].frame)
    project.drop(batch, "batch_000.csv")
    run = cli("run", "--config", str(project.config), "--json")
    assert run.code == 0, run.err
    [record] = run.json_lines()
    assert (record["status"], record["rows"]) == ("processed", len(batch))
    entries = Ledger(load_config(project.config).ledger_url).recent()
    assert [(e.batch, e.status) for e in entries] == [("batch_000.csv", "processed")]

    # A plain MLflow client, in a process that never imports driftloop, passes the frame
    # pandas reads from the training file: int, bool and text columns as they come.
    uri = load_config(project.config).mlflow_uri
    script = f"""
import json, sys, mlflow, pandas as pd
mlflow.set_tracking_uri({uri!r})
model = mlflow.pyfunc.load_model("models:/test-model@champion")
frame = pd.read_csv({str(project.bootstrap_csv)!r})
features = frame.drop(columns="label")
out = model.predict(features)
as_category = model.predict(features.astype({{"c1": "category", "code": "category"}}))
local = mlflow.artifacts.download_artifacts("models:/test-model@champion")
example = json.load(open(local + "/input_example.json"))
import os
files = sorted(
    os.path.relpath(os.path.join(d, f), local) for d, _, fs in os.walk(local) for f in fs
)
mlmodel = open(local + "/MLmodel").read()
mine = ("driftloop", "drift", "models", "flows")
print(json.dumps({{
    "dtypes": sorted({{str(t) for t in features.dtypes}}),
    "acc": float((out["prediction"] == frame["label"]).mean()),
    "same": bool((as_category["prediction"] == out["prediction"]).all()),
    "labels": sorted({{type(v).__name__ for v in out["prediction"].tolist()}}),
    "cols": list(out.columns), "example": example["columns"], "rows": len(example["data"]),
    "files": files, "from_code": "model_code_path" in mlmodel,
    "ours": sorted(m for m in sys.modules if m.split(".")[0] in mine)}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd="/", check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["dtypes"] == ["bool", "float64", "int64", "str"]
    assert got["cols"] == ["prediction", "proba_0", "proba_1"]
    assert got["labels"] == ["int"]
    assert got["acc"] > 0.8
    assert got["same"] is True
    assert got["example"] == ["x1", "x2", "x3", "n", "c1", "c2", "flag", "code"]
    assert got["rows"] == 5
    assert got["ours"] == []
    # Logged from code: the published serving.py, no pickled Python object.
    assert got["from_code"] is True
    assert "serving.py" in got["files"] and "python_model.pkl" not in got["files"]
    assert not [f for f in got["files"] if f.endswith((".pkl", ".pickle", ".cloudpickle"))]


def test_labels_that_truly_differ_still_quarantine_with_the_classes_named(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    boot = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert boot.code == 0, boot.err
    batch = _natural(project.stream.batches[0].frame)
    project.drop(batch.assign(label=batch["label"].map({0: "no", 1: "yes"})), "words.csv")
    run = cli("run", "--config", str(project.config), "--json")
    assert run.code == 3, run.err
    [record] = run.json_lines()
    assert record["status"] == "quarantined"
    assert (
        f"words.csv: target 'label' holds {len(batch)} row(s) with class(es) ['no', 'yes'] that "
        "champion version 1 does not know (['0', '1'])"
    ) in record["reason"]
