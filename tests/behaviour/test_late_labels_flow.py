"""Late labels through `driftloop run`: real Keras model, MLflow store and Prefect flows.

Two unlabelled batches with ids go through a run; their labels arrive later, in parts, as
files in labels/. The concept-change batch is challenged once its labelled share reaches
`[labels] min_fraction`; the stable batch is tested and left alone; later labels are recorded.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
from mlflow.tracking import MlflowClient

from driftloop.core.config import load_config
from driftloop.ingest.labels_store import LabelStore
from tests.helpers import TINY_SETTINGS, Project, cli, make_project


def _project(tmp_path: Path) -> Project:
    project = make_project(tmp_path, TINY_SETTINGS + "\n[labels]\nmin_fraction = 0.6\n")
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace('target = "', 'id_column = "rid"\ntarget = "'))
    return project


def _with_ids(frame: pd.DataFrame, prefix: str) -> pd.DataFrame:
    frame = frame.reset_index(drop=True)
    return frame.assign(rid=[f"{prefix}{n}" for n in range(len(frame))])


def _labels(project: Project, frame: pd.DataFrame, name: str) -> None:
    folder = project.work / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    frame[["rid", "label"]].to_csv(folder / name, index=False)


def _run(project: Project) -> list[dict[str, object]]:
    res = cli("run", "--config", str(project.config), "--json")
    assert res.code == 0, res.err
    return res.json_lines()


def test_late_labels_join_in_parts_and_the_concept_batch_is_challenged_once(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    s = project.stream.batches
    stable, concept = _with_ids(s[0].frame, "s"), _with_ids(s[10].frame, "c")
    project.drop(stable.drop(columns="label"), "stable.csv")
    os.utime(project.work / "landing" / "stable.csv", ns=(10**12,) * 2)
    project.drop(concept.drop(columns="label"), "concept.csv")
    _labels(project, concept.iloc[:100], "early-concept.csv")  # before its batch is processed
    first = _run(project)
    assert [(r["batch"], r.get("kind", "batch")) for r in first] == [
        ("stable.csv", "batch"),
        ("concept.csv", "batch"),
        ("concept.csv", "labels"),
    ]
    assert first[0]["action"] == "none" and first[1]["labelled"] is False
    rows, lab = len(concept), first[2]
    assert (lab["action"], lab["labels_joined"], lab["kept"]) == ("waiting-labels", 100, rows)
    assert lab["labelled_share"] == round(100 / rows, 6)

    _labels(project, concept.iloc[100:480], "more-concept.csv")
    flipped = stable.iloc[:3].assign(label=lambda f: 1 - f["label"])
    _labels(project, pd.concat([stable, flipped]), "stable-labels.csv")
    second = {r["batch"]: r for r in _run(project)}
    assert set(second) == {"concept.csv", "stable.csv"}
    con, sta = second["concept.csv"], second["stable.csv"]
    assert (con["labels_joined"], con["new_labels"]) == (480, 380)
    assert con["action"] in ("promoted", "recalled", "rejected")
    assert con["p_value"] < 0.05 and con["score_batch"] < 0.8  # the old rule no longer holds
    assert con["label_files"] == ["early-concept.csv", "more-concept.csv"]
    assert sta["action"] == "no-loss" and sta["conflicts"] == 3
    assert sta["conflict_ids"] == ["s0", "s1", "s2"] and sta["duplicates"] == 0

    _labels(project, pd.concat([concept.iloc[480:], concept.iloc[:10]]), "last-concept.csv")
    third = _run(project)
    assert [(r["batch"], r["action"]) for r in third] == [("concept.csv", "recorded")]
    assert (third[0]["labels_joined"], third[0]["duplicates"]) == (rows, 10)
    assert _run(project) == []  # nothing new: nothing recorded
    clash = concept.iloc[:1].assign(label=lambda f: 1 - f["label"])
    _labels(project, clash, "late-clash.csv")
    fourth = _run(project)  # every row was labelled: the clash is recorded all the same
    assert [(r["action"], r["new_labels"], r["conflicts"]) for r in fourth] == [("recorded", 0, 1)]
    cfg = load_config(project.config)
    store = LabelStore(cfg.ledger_url)
    recorded = [json.loads(r) for r in store.records(cfg.model.name)]
    assert [(r["batch"], r["action"]) for r in recorded] == [
        ("concept.csv", "waiting-labels"),
        ("stable.csv", "no-loss"),  # kept first, joined first
        ("concept.csv", con["action"]),
        ("concept.csv", "recorded"),
        ("concept.csv", "recorded"),
    ]
    assert [f.status for f in store.files()] == ["processed"] * 5
    client = MlflowClient(cfg.mlflow_uri)
    experiment = client.get_experiment_by_name(cfg.tracking.experiment)
    assert experiment is not None
    runs = client.search_runs(
        [experiment.experiment_id], "attributes.run_name = 'labels:concept.csv'"
    )
    assert len(runs) == 1
    assert runs[0].data.params == {
        "batch": "concept.csv",
        "labels": "480",
        "trigger": "late-labels",
    }


def test_late_labels_of_a_class_the_champion_lacks_wait_for_a_champion_that_knows_it(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path)
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    stable = _with_ids(project.stream.batches[0].frame, "s")
    project.drop(stable.drop(columns="label"), "stable.csv")
    assert [r["action"] for r in _run(project)] == ["none"]
    _labels(project, stable.assign(label=lambda f: f["label"].where(f.index >= 30, 2)), "l.csv")
    refused = cli("run", "--config", cfg_path, "--json")
    assert refused.code == 3, refused.err
    (lab,) = refused.json_lines()
    assert (lab["action"], lab["champion_version"]) == ("unknown-classes", "1")
    assert "holds 30 row(s) with class(es) ['2'] that champion version 1" in str(lab["reason"])
    assert "the late labels of 1 batch(es) hold classes the champion" in refused.err
    assert _run(project) == []  # the same champion: nothing to try again, nothing recorded
    boot = pd.read_csv(project.bootstrap_csv)
    boot = pd.concat([boot, boot.iloc[:80].assign(label=2)], ignore_index=True)
    boot.to_csv(tmp_path / "with-2.csv", index=False)
    forced = cli(
        "bootstrap", "--config", cfg_path, "--force", "--data", str(tmp_path / "with-2.csv")
    )
    assert forced.code == 0, forced.err
    (tested,) = _run(project)  # a champion that knows class 2: the labels are tested now
    assert tested["batch"] == "stable.csv" and tested["labels_joined"] == len(stable)
    assert tested["action"] in ("no-loss", "promoted", "rejected", "recalled")
    assert tested["champion_version"] == "2" and tested["p_value"] is not None
    assert _run(project) == []  # tested once
