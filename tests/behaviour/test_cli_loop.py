"""Every CLI verb end to end on tiny data: real Keras training, MLflow store and Prefect flows."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, sha256_of
from driftloop.models.version_record import read_record
from tests.helpers import Project, cli


def _client(project: Project) -> MlflowClient:
    return MlflowClient(tracking_uri=load_config(project.config).mlflow_uri)


def _aliases(project: Project) -> dict[str, str]:
    aliases = _client(project).get_registered_model("test-model").aliases
    return {k: str(v) for k, v in aliases.items()}


def _drop_in_order(project: Project, batches: list[tuple[str, object]]) -> dict[str, Path]:
    paths = {}
    for i, (name, frame) in enumerate(batches):
        path = project.drop(frame, name)  # type: ignore[arg-type]
        os.utime(path, ns=(10**9 * (1000 + i),) * 2)
        paths[name] = path
    return paths


def test_bootstrap_registers_a_champion_a_plain_client_can_use(project: Project) -> None:
    res = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err
    assert "registered test-model version 1 as champion" in res.out
    assert _aliases(project) == {"champion": "1"}
    mv = _client(project).get_model_version("test-model", "1")
    record = read_record(_client(project), mv)
    assert mv.tags["driftloop.kind"] == record.lineage.kind == "initial"
    sha = sha256_of(project.bootstrap_csv)
    assert record.lineage.batch_sha256 == sha and mv.tags["driftloop.batch"] == "bootstrap.csv"
    assert record.run_id == mv.run_id
    assert record.reference.metric == "accuracy" and record.reference.score > 0.8
    assert mv.tags["driftloop.reference_score"] == f"{record.reference.score:.6f}"
    again = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert again.code == 2 and "already has a champion (version 1)" in again.err

    # A plain MLflow client, in a process that never imports driftloop.
    uri = load_config(project.config).mlflow_uri
    script = f"""
import json, sys, mlflow, pandas as pd
mlflow.set_tracking_uri({uri!r})
model = mlflow.pyfunc.load_model("models:/test-model@champion")
frame = pd.read_csv({str(project.bootstrap_csv)!r}).head(200)
out = model.predict(frame.drop(columns="label").astype({{"x1": float, "x2": float, "x3": float}}))
mine = ("driftloop", "drift", "models", "flows")
ours = sorted(m for m in sys.modules if m.split(".")[0] in mine)
print(json.dumps({{"acc": float((out["prediction"] == frame["label"]).mean()),
                  "cols": list(out.columns), "ours": ours}}))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd="/", check=True
    )
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert got["cols"] == ["prediction", "proba_0", "proba_1"]
    assert got["acc"] > 0.8
    assert got["ours"] == []


def test_the_whole_loop_through_every_verb(project: Project) -> None:
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    s = project.stream.batches
    stable, shifted, concept = s[0].frame, s[5].frame, s[10].frame
    paths = _drop_in_order(
        project,
        [
            ("stable.csv", stable),
            ("shifted-unlabelled.parquet", shifted.drop(columns="label")),
            ("broken.csv", stable.drop(columns="x3")),
            ("stable-again.csv", stable),
            ("new-class.csv", stable.assign(label=stable["label"].where(stable.index % 10 > 0, 2))),
            ("concept.csv", concept),
        ],
    )
    res = cli("run", "--config", cfg_path, "--json")
    assert res.code == 3, res.err  # broken.csv and new-class.csv went to quarantine
    recs = {r["batch"]: r for r in res.json_lines()}
    assert list(recs) == [
        "stable.csv",
        "shifted-unlabelled.parquet",
        "broken.csv",
        "stable-again.csv",
        "new-class.csv",
        "concept.csv",
    ]
    for r in recs.values():
        assert {
            "batch",
            "sha256",
            "rows",
            "status",
            "reason",
            "drift",
            "drifted_features",
            "p_values",
            "action",
            "champion_version",
            "accuracy_before",
            "accuracy_after",
        } <= set(r)

    st = recs["stable.csv"]
    assert (st["status"], st["drift"], st["action"], st["champion_version"]) == (
        "processed",
        False,
        "none",
        "1",
    )
    assert set(st["p_values"]) == {"x1", "x2", "x3", "c1", "c2", "__accuracy__", "__prediction__"}
    assert st["accuracy_before"] == st["accuracy_after"] > 0.8

    un = recs["shifted-unlabelled.parquet"]
    assert un["drift"] is True and un["action"] == "drift-unlabelled"
    assert set(un["drifted_features"]) == {"x1", "c1", "__prediction__"}  # outputs moved too
    assert un["accuracy_before"] is None and un["champion_version"] == "1"

    br = recs["broken.csv"]
    assert br["status"] == "quarantined" and "missing column(s) ['x3']" in br["reason"]
    dup = recs["stable-again.csv"]
    assert dup["status"] == "duplicate" and "stable.csv" in dup["reason"]

    nc = recs["new-class.csv"]
    assert nc["status"] == "quarantined"
    assert "'label' holds 60 row(s) with class(es) ['2'] that champion version 1" in nc["reason"]

    co = recs["concept.csv"]
    # concept.csv comes after the covariate shift too: features and accuracy both drifted.
    assert co["drift"] is True
    assert co["drifted_features"] == ["x1", "c1", "__prediction__", "__accuracy__"]
    assert co["action"] == "promoted" and co["champion_version"] == "2"
    assert co["accuracy_after"] > co["accuracy_before"]

    work = project.work
    assert sorted(p.name for p in (work / "processed").iterdir()) == [
        "concept.csv",
        "shifted-unlabelled.parquet",
        "stable.csv",
    ]
    assert sorted(p.name for p in (work / "quarantine").iterdir()) == [
        "broken.csv",
        "broken.csv.reason.txt",
        "new-class.csv",
        "new-class.csv.reason.txt",
        "stable-again.csv",
        "stable-again.csv.reason.txt",
    ]
    assert list((work / "landing").iterdir()) == []

    client = _client(project)
    assert _aliases(project) == {"champion": "2", "previous": "1"}
    v2 = client.get_model_version("test-model", "2")
    assert v2.tags["driftloop.parent_version"] == "1"
    assert (
        read_record(client, v2).lineage.batch_sha256
        == co["sha256"]
        == sha256_of(work / "processed" / "concept.csv")
    )
    assert read_record(client, v2).run_id == v2.run_id == co["mlflow_run_id"]
    assert v2.tags["driftloop.gate"] == "promoted"
    run = client.get_run(co["mlflow_run_id"])
    assert run.data.tags["driftloop.action"] == "promoted"
    assert run.data.metrics["p_value.__accuracy__"] == co["p_values"]["__accuracy__"]
    artifacts = {a.path for a in client.list_artifacts(co["mlflow_run_id"])}
    assert {"drift_report.json", "drift_report.md"} <= artifacts
    assert not paths["concept.csv"].exists()

    # Nothing waiting: nothing happens.
    empty = cli("run", "--config", cfg_path, "--json")
    assert empty.code == 0 and empty.json_lines() == []

    status = cli("status", "--config", cfg_path, "--json")
    info = json.loads(status.out)
    assert info["champion_version"] == "2" and info["previous_version"] == "1"
    assert [b["batch"] for b in info["batches"]] == [
        "concept.csv",
        "new-class.csv",
        "stable-again.csv",
        "broken.csv",
        "shifted-unlabelled.parquet",
        "stable.csv",
    ]
    assert info["batches"][0]["action"] == "promoted"
    text = cli("status", "--config", cfg_path)
    assert "champion: version 2 (finetune, parent 1)" in text.out

    back = cli("rollback", "--config", cfg_path)
    assert back.code == 0 and "version 2 -> 1" in back.out
    assert _aliases(project) == {"champion": "1"}
    assert client.get_model_version("test-model", "2").tags["driftloop.rolled_back"] == "true"
    none_left = cli("rollback", "--config", cfg_path)
    assert none_left.code == 2 and "no 'previous' version" in none_left.err

    # Manual retrain: the latest labelled batch is concept.csv; v1 was not trained on it.
    rt = cli("retrain", "--config", cfg_path, "--json")
    assert rt.code == 0, rt.err
    out = json.loads(rt.out)
    assert out["batch"] == "concept.csv" and out["previous_champion"] == "1"
    assert out["action"] == "promoted" and out["champion_version"] == "3"
    v3 = read_record(client, client.get_model_version("test-model", "3"))
    assert v3.lineage.trigger == "manual"
    refused = cli("retrain", "--config", cfg_path)
    assert refused.code == 2 and "already trained on concept.csv" in refused.err
    forced = cli("retrain", "--config", cfg_path, "--force", "--json")
    assert forced.code == 0, forced.err
    assert json.loads(forced.out)["challenger_version"] == "4"
    scratch = cli("retrain", "--config", cfg_path, "--force", "--from-scratch", "--json")
    assert scratch.code == 0, scratch.err
    assert json.loads(scratch.out)["kind"] == "scratch"
    assert client.get_model_version("test-model", "5").tags["driftloop.kind"] == "scratch"

    # Rollback to a named version, and the history of every alias move.
    champion_now = _aliases(project)["champion"]
    to_one = cli("rollback", "--config", cfg_path, "--to", "1")
    assert to_one.code == 0 and f"version {champion_now} -> 1" in to_one.out
    assert _aliases(project)["champion"] == "1"
    moves = cli("history", "--config", cfg_path, "--json").json_lines()
    champion_moves = [
        (m["from_version"], m["to_version"]) for m in moves if m["alias"] == "champion"
    ]
    assert champion_moves[:3] == [(None, "1"), ("1", "2"), ("2", "1")]
    assert champion_moves[-1] == (champion_now, "1")
    assert moves[0]["trigger"] == "bootstrap:bootstrap.csv"
    assert moves[0]["reason"].startswith("first model:") and moves[1]["alias"] == "previous"
    table = cli("history", "--config", cfg_path)
    assert table.code == 0 and "rollback" in table.out


def test_gate_keeps_the_champion_when_the_challenger_is_not_better(project: Project) -> None:
    project.config.write_text(
        project.config.read_text().replace(
            "replay_rows = 400", "replay_rows = 400\n[gate]\nmin_improvement = 0.99"
        )
    )
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    _drop_in_order(project, [("concept.csv", project.stream.batches[10].frame)])
    (rec,) = cli("run", "--config", cfg_path, "--json").json_lines()
    assert rec["drift"] is True and rec["action"] == "rejected"
    assert rec["champion_version"] == "1" and rec["challenger_version"] == "2"
    assert rec["accuracy_after"] == rec["accuracy_before"]
    assert _aliases(project) == {"champion": "1"}
    assert (
        _client(project).get_model_version("test-model", "2").tags["driftloop.gate"] == "rejected"
    )


def test_retrain_needs_a_labelled_batch_and_errors_name_the_fix(project: Project) -> None:
    cfg_path = str(project.config)
    missing = cli("run", "--config", str(project.root / "nope.toml"))
    assert (
        missing.code == 2 and "no config file at" in missing.err and "driftloop init" in missing.err
    )
    no_model = cli("status", "--config", cfg_path)
    assert no_model.code == 0 and "no champion yet" in no_model.out
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    res = cli("retrain", "--config", cfg_path)
    assert res.code == 2 and "no processed batch with labels to retrain on" in res.err


def test_unreachable_tracking_store_leaves_the_batch_waiting(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    text = project.config.read_text() + (
        f'\n[tracking]\ntracking_uri = "http://127.0.0.1:{port}"\n'
        '[ingest]\nledger_url = "sqlite:///ledger.db"\n'
    )
    project.config.write_text(text)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    # The environment layer of the config: one retry after 0.1 s instead of 3 with backoff.
    monkeypatch.setenv("DRIFTLOOP_PREFECT__IO_RETRIES", "1")
    monkeypatch.setenv("DRIFTLOOP_PREFECT__IO_RETRY_DELAY_SECONDS", "0.1")
    path = project.drop(project.stream.batches[0].frame, "waiting.csv")
    res = cli("run", "--config", str(project.config), "--json")
    assert res.code == 2 and res.out == ""
    assert f"cannot reach the MLflow tracking server at http://127.0.0.1:{port}" in res.err
    assert "waiting batches stay in the landing folder" in res.err
    assert path.is_file()
    assert list((project.work / "processed").iterdir()) == []
    assert list((project.work / "quarantine").iterdir()) == []
    assert Ledger(load_config(project.config).ledger_url).recent() == []


def test_drift_without_loss_or_in_the_cooldown_is_reported_not_retrained(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    stable = project.stream.batches[0].frame
    # x3 does not enter the first concept's labelling rule: moving it leaves the errors alone.
    _drop_in_order(project, [("x3-moved.csv", stable.assign(x3=stable["x3"] + 1.5))])
    (rec,) = cli("run", "--config", cfg_path, "--json").json_lines()
    assert rec["drifted_features"] == ["x3"] and rec["action"] == "drift-no-loss"
    assert 'no retrain ([drift] retrain_on = "performance")' in rec["reason"]
    assert "errors on the batch did not change significantly" in rec["reason"]
    assert rec["champion_version"] == "1" and rec["challenger_version"] is None
    assert [str(v.version) for v in _client(project).search_model_versions()] == ["1"]

    monkeypatch.setenv("DRIFTLOOP_DRIFT__RETRAIN_ON", "any")  # retrain on any drift
    _drop_in_order(project, [("x3-moved-again.csv", stable.assign(x3=stable["x3"] + 1.6))])
    (rec,) = cli("run", "--config", cfg_path, "--json").json_lines()
    assert rec["drifted_features"] == ["x3"] and rec["action"] in ("promoted", "rejected")
    assert rec["challenger_version"] == "2"

    # The next drifted batch falls in the cool-down ([drift] retrain_cooldown = 1): recorded,
    # no challenger. x3 moved the other way drifts against either champion's reference.
    _drop_in_order(project, [("x3-moved-back.csv", stable.assign(x3=stable["x3"] - 1.5))])
    (rec,) = cli("run", "--config", cfg_path, "--json").json_lines()
    assert "x3" in rec["drifted_features"] and rec["action"] == "drift-cooldown"
    assert "x3-moved-again.csv (" in rec["reason"]
    assert "1 batch(es) ago challenged the champion" in rec["reason"]
    assert rec["challenger_version"] is None
    assert len(_client(project).search_model_versions()) == 2


def test_a_past_champion_that_fits_the_drifted_batch_is_recalled_untrained(
    project: Project,
) -> None:
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    s = project.stream.batches
    # The new rule (version 2 learns it), once more, then the bootstrap's own rule returns.
    _drop_in_order(
        project,
        [("new.csv", s[10].frame), ("new-again.csv", s[11].frame), ("old.csv", s[1].frame)],
    )
    recs = {r["batch"]: r for r in cli("run", "--config", cfg_path, "--json").json_lines()}
    assert [recs[b]["action"] for b in recs] == ["promoted", "none", "recalled"]
    old = recs["old.csv"]
    assert "__accuracy__" in old["drifted_features"]
    assert (old["champion_version"], old["challenger_version"]) == ("1", "1")
    assert old["reason"].startswith("version 1 was champion before and fits the new rows again")
    assert old["accuracy_after"] > old["accuracy_before"] + 0.2  # 0.93 against 0.64
    assert len(_client(project).search_model_versions()) == 2  # nothing was trained
    assert _aliases(project) == {"champion": "1", "previous": "2"}
    status = cli("status", "--config", cfg_path, "--json")
    assert json.loads(status.out)["champion"]["version"] == "1", status.out


def test_a_past_champion_whose_files_are_gone_is_passed_over_and_a_challenger_trained(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    s = project.stream.batches
    _drop_in_order(project, [("new.csv", s[10].frame), ("new-again.csv", s[11].frame)])
    assert cli("run", "--config", cfg_path, "--json").code == 0
    source = _client(project).get_model_version("test-model", "1").source  # models:/m-<id>
    shutil.rmtree(project.work / "mlartifacts" / "models" / source.removeprefix("models:/"))
    for cached in (project.work / "cache").glob("*/test-model/1"):
        shutil.rmtree(cached)
    _drop_in_order(project, [("old.csv", s[1].frame)])
    res = cli("run", "--config", cfg_path, "--json")
    assert res.code == 0, res.err
    (old,) = res.json_lines()
    assert old["action"] == "promoted" and old["challenger_version"] == "3"
    lost = "version 1 cannot be recalled: version 1 of model 'test-model' has no files"
    assert any(r.getMessage().startswith(lost) for r in caplog.records)


def test_a_regression_model_runs_through_the_flow(project: Project) -> None:
    text = project.config.read_text().replace(
        'target = "label"', 'target = "y"\ntask = "regression"'
    )
    project.config.write_text(text)
    boot = project.stream.bootstrap
    boot.assign(y=2.0 * boot["x2"] + boot["x3"]).drop(columns="label").to_csv(project.bootstrap_csv)
    cfg_path = str(project.config)
    res = cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err
    assert "(validation rmse " in res.out
    batch = project.stream.batches[1].frame
    _drop_in_order(
        project, [("worse.csv", batch.assign(y=-2.0 * batch["x2"]).drop(columns="label"))]
    )
    (rec,) = cli("run", "--config", cfg_path, "--json").json_lines()
    assert rec["status"] == "processed" and rec["metric"] == "rmse"
    assert rec["drifted_features"] == ["__accuracy__"]  # the model's errors grew
    assert rec["action"] in ("promoted", "rejected")


def test_init_writes_a_commented_config_and_the_work_folders(
    project: Project, tmp_path: Path
) -> None:
    folder = tmp_path / "new"
    args = ["init", "--data", str(project.bootstrap_csv), "--target", "label"]
    res = cli(*args, "--name", "churn", "--dir", str(folder))
    assert res.code == 0, res.err
    cfg = load_config(folder / "driftloop.toml")
    assert cfg.features.numeric == ["x1", "x2", "x3"] and cfg.features.categorical == ["c1", "c2"]
    assert cfg.model.name == "churn" and cfg.work_dir == folder / "driftloop-work"
    assert all(d.is_dir() for d in (cfg.landing_dir, cfg.processed_dir, cfg.quarantine_dir))
    lines = (folder / "driftloop.toml").read_text().splitlines()
    settings = [i for i, line in enumerate(lines) if "=" in line and not line.startswith("#")]
    assert len(settings) > 40
    bare = [lines[i] for i in settings if "#" not in lines[i] and not lines[i - 1].startswith("#")]
    assert bare == []
    again = cli(*args, "--dir", str(folder))
    assert again.code == 2 and "already exists" in again.err
    wrong = cli(
        "init",
        "--data",
        str(project.bootstrap_csv),
        "--target",
        "nope",
        "--dir",
        str(tmp_path / "other"),
    )
    assert wrong.code == 2 and "no column 'nope'; pass --target with one of" in wrong.err
