"""Late label files: admitted once, quarantined with a reason, joined to kept batch rows.

No model here: batches are admitted and kept as `process-batch` keeps them, label files are
admitted and joined as the run's late-label step does (flows/late_labels.py runs the same
functions; tests/behaviour/test_late_labels_flow.py runs the flow itself).
"""

from __future__ import annotations

import contextlib
import importlib
import json
from pathlib import Path

import pandas as pd
import pytest

from driftloop.core.config import Config, load_config
from driftloop.core.records import LabelAction, LabelRecord
from driftloop.ingest import Ledger, admit, zone_of
from driftloop.ingest.admit import ACCEPTED
from driftloop.ingest.labels_admit import STEPS, LabelSpec, admit_waiting_labels
from driftloop.ingest.labels_join import id_text, join_labels
from driftloop.ingest.labels_keep import join_kept, keep_rows
from driftloop.ingest.labels_store import KeptBatch, LabelStore
from tests.helpers import Project, make_project

labels_admit = importlib.import_module("driftloop.ingest.labels_admit")


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs."""


def late_project(tmp_path: Path, extra: str = "") -> Project:
    """A demo-stream project whose batches carry a row id column `rid`."""
    project = make_project(tmp_path, extra)
    text = project.config.read_text(encoding="utf-8")
    project.config.write_text(text.replace('target = "', 'id_column = "rid"\ntarget = "'))
    return project


def batch_frame(project: Project, i: int, rows: int = 40) -> pd.DataFrame:
    """Batch i of the stream with ids `b{i}-{n}` (labels included)."""
    frame = project.stream.batches[i].frame.head(rows).reset_index(drop=True)
    return frame.assign(rid=[f"b{i}-{n}" for n in range(len(frame))])


def drop_labels(cfg: Config, frame: pd.DataFrame, name: str) -> Path:
    """Put a label file in labels/ (CSV, Parquet or JSON Lines by suffix)."""
    folder = cfg.work_dir / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if name.endswith(".parquet"):
        frame.to_parquet(path, index=False)
    elif name.endswith(".jsonl"):
        frame.to_json(path, orient="records", lines=True)
    else:
        frame.to_csv(path, index=False)
    return path


def process_unlabelled(project: Project, cfg: Config, frame: pd.DataFrame, name: str) -> KeptBatch:
    """Admit a batch without its labels and keep its rows, as `process-batch` does."""
    project.drop(frame.drop(columns="label"), name)
    adm = admit(cfg.landing_dir / name, cfg, Ledger(cfg.ledger_url))
    assert adm.status == ACCEPTED and adm.frame is not None
    store = LabelStore(cfg.ledger_url)
    return keep_rows(
        store, cfg.model.name, cfg.late_labels_dir, (name, adm.sha256, adm.rows), adm.frame
    )


def admit_all(cfg: Config) -> dict[str, str]:
    """Admit every waiting label file, as the run's late-label step does; each file's status."""
    spec = LabelSpec(cfg.model.name, "rid", cfg.model.target)
    done = admit_waiting_labels(zone_of(cfg), LabelStore(cfg.ledger_url), spec)
    return {e.file: e.status for e in done}


def joined(cfg: Config, batch: KeptBatch):  # type: ignore[no-untyped-def]
    return join_kept(LabelStore(cfg.ledger_url), cfg.model.name, batch, "rid", cfg.model.target)


def test_labels_in_two_parts_join_to_their_batch_with_its_true_labels(tmp_path: Path) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    frame = batch_frame(project, 0)
    batch = process_unlabelled(project, cfg, frame, "b0.csv")
    drop_labels(cfg, frame[["rid", "label"]].iloc[:15], "part1.csv")
    assert admit_all(cfg) == {"part1.csv": "processed"}
    first = joined(cfg, batch)
    assert first.labelled == 15
    drop_labels(cfg, frame[["rid", "label"]].iloc[15:], "part2.parquet")
    assert admit_all(cfg) == {"part2.parquet": "processed"}
    whole = joined(cfg, batch)
    assert whole.labelled == 40 and whole.duplicates == 0 and whole.conflicts == 0
    truth = dict(zip(frame["rid"], frame["label"], strict=True))
    assert whole.frame["label"].tolist() == [truth[r] for r in whole.frame["rid"]]
    assert sorted(whole.frame.columns) == sorted(frame.columns)
    assert (cfg.work_dir / "labels" / "processed" / "part2.parquet").is_file()


def test_labels_that_come_before_their_batch_wait_and_join_when_it_comes(tmp_path: Path) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    frame = batch_frame(project, 1)
    drop_labels(cfg, frame[["rid", "label"]], "early.jsonl")
    assert admit_all(cfg) == {"early.jsonl": "processed"}
    batch = process_unlabelled(project, cfg, frame, "b1.parquet")
    assert joined(cfg, batch).labelled == 40


def test_conflicting_labels_are_counted_and_the_last_to_arrive_is_used(tmp_path: Path) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    frame = batch_frame(project, 0)
    batch = process_unlabelled(project, cfg, frame, "b0.csv")
    drop_labels(cfg, frame[["rid", "label"]], "a.csv")
    admit_all(cfg)
    flipped = frame[["rid", "label"]].iloc[:3].assign(label=lambda f: 1 - f["label"])
    drop_labels(cfg, flipped, "b.csv")
    admit_all(cfg)
    out = joined(cfg, batch)
    assert out.conflicts == 3 and out.conflict_ids == ["b0-0", "b0-1", "b0-2"]
    assert out.duplicates == 0 and out.labelled == 40
    got = dict(zip(out.frame["rid"], out.frame["label"], strict=True))
    assert [got[f"b0-{n}"] for n in range(3)] == (1 - frame["label"].iloc[:3]).tolist()


def test_a_label_repeated_in_another_file_is_a_duplicate_not_a_conflict(tmp_path: Path) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    frame = batch_frame(project, 0)
    batch = process_unlabelled(project, cfg, frame, "b0.csv")
    drop_labels(cfg, frame[["rid", "label"]], "a.csv")
    drop_labels(cfg, frame[["rid", "label"]].iloc[:5].astype({"label": "float64"}), "b.csv")
    assert admit_all(cfg) == {"a.csv": "processed", "b.csv": "processed"}
    out = joined(cfg, batch)
    assert (out.duplicates, out.conflicts, out.labelled) == (5, 0, 40)


def test_the_same_label_file_twice_is_a_duplicate_and_stores_nothing_again(tmp_path: Path) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    frame = batch_frame(project, 0)
    drop_labels(cfg, frame[["rid", "label"]], "a.csv")
    admit_all(cfg)
    drop_labels(cfg, frame[["rid", "label"]], "a-again.csv")
    assert admit_all(cfg) == {"a-again.csv": "duplicate"}
    note = cfg.work_dir / "labels" / "quarantine" / "a-again.csv.reason.txt"
    assert "same content" in note.read_text() and "a.csv" in note.read_text()
    assert len(LabelStore(cfg.ledger_url).labels_for(cfg.model.name, ["b0-0"])) == 1


@pytest.mark.parametrize(
    ("broken", "column", "what"),
    [
        (lambda f: f.drop(columns="label"), "label", "no column 'label' (it has ['rid'])"),
        (lambda f: f.assign(rid=[None] * len(f)), "rid", "40 row(s) with an empty 'rid'"),
    ],
)
def test_a_broken_label_file_is_quarantined_naming_the_file_the_column_and_the_fix(
    tmp_path: Path,
    broken,
    column: str,
    what: str,  # type: ignore[no-untyped-def]
) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    drop_labels(cfg, broken(batch_frame(project, 0)[["rid", "label"]]), "bad.csv")
    assert admit_all(cfg) == {"bad.csv": "quarantined"}
    reason = (cfg.work_dir / "labels" / "quarantine" / "bad.csv.reason.txt").read_text()
    assert reason.startswith(f"bad.csv: {what} (column {column!r}")
    assert "Fix the file and drop it into the labels folder again" in reason
    assert LabelStore(cfg.ledger_url).labels_for(cfg.model.name, ["b0-0"]).empty


def test_a_batch_without_its_id_column_is_refused_naming_the_key(tmp_path: Path) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    project.drop(batch_frame(project, 0).drop(columns="rid"), "noid.csv")
    adm = admit(cfg.landing_dir / "noid.csv", cfg, Ledger(cfg.ledger_url))
    assert adm.status == "quarantined"
    assert adm.reason.startswith("noid.csv: no id column 'rid' ([model] id_column)")
    assert 'set [model] id_column = "" in driftloop.toml' in adm.reason


def test_a_batch_with_empty_ids_is_refused_naming_the_column(tmp_path: Path) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    frame = batch_frame(project, 0)
    project.drop(frame.assign(rid=[None, *frame["rid"].iloc[1:]]), "holes.csv")
    adm = admit(cfg.landing_dir / "holes.csv", cfg, Ledger(cfg.ledger_url))
    assert adm.status == "quarantined"
    assert "holes.csv: id column 'rid' ([model] id_column) is empty in 1 of 40 row(s)" in adm.reason


def _crash_at(monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    def point(name: str) -> None:
        if name == step:
            raise Killed(step)

    monkeypatch.setattr(labels_admit, "checkpoint", point)


def places(cfg: Config, name: str) -> list[str]:
    """Where a label file is: labels/, labels/processed/ or labels/quarantine/."""
    root = cfg.work_dir / "labels"
    return [str(d) for d in (root, root / "processed", root / "quarantine") if (d / name).is_file()]


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("good", [True, False])
def test_a_crash_at_any_step_leaves_the_label_file_in_one_place_and_its_labels_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, good: bool
) -> None:
    project = late_project(tmp_path)
    cfg = load_config(project.config)
    labels = batch_frame(project, 0)[["rid", "label"]]
    drop_labels(cfg, labels if good else labels.drop(columns="label"), "l.csv")
    _crash_at(monkeypatch, step)
    with contextlib.suppress(Killed):  # a good file never reaches label-noted
        admit_all(cfg)
    monkeypatch.undo()
    assert len(places(cfg, "l.csv")) == 1
    admit_all(cfg)  # the next run: recovery, then whatever still waits
    store = LabelStore(cfg.ledger_url)
    assert places(cfg, "l.csv") == [
        str(cfg.work_dir / "labels" / ("processed" if good else "quarantine"))
    ]
    assert store.moves() == [] and [f.status for f in store.files()] == [
        "processed" if good else "quarantined"
    ]
    stored = store.labels_for(cfg.model.name, labels["rid"].tolist())
    assert len(stored) == (40 if good else 0)


def test_a_regressors_float_labels_join_exactly_and_equal_numbers_are_one_label() -> None:
    kept = pd.DataFrame({"rid": ["a", "b", "c"], "x1": [1.0, 2.0, 3.0]})
    labels = pd.DataFrame(
        {
            "seq": [1, 2, 3, 4],
            "row_id": ["a", "b", "b", "c"],
            "label": ["0.25", "1.5", "1.50", "2.0"],
            "file_sha256": ["f1", "f1", "f2", "f2"],
        }
    )
    out = join_labels(kept, labels, "rid", "y")
    assert out.frame["y"].tolist() == [0.25, 1.5, 2.0]
    assert out.frame["y"].dtype == "float64"
    assert (out.duplicates, out.conflicts, out.files) == (1, 0, ["f1", "f2"])


def test_ids_read_as_whole_floats_match_the_same_ids_written_as_integers() -> None:
    assert id_text(pd.Series([7.0, 12.0])).tolist() == ["7", "12"]
    assert id_text(pd.Series([7, 12])).tolist() == ["7", "12"]
    assert id_text(pd.Series(["007", "x"])).tolist() == ["007", "x"]


def test_a_batch_over_sample_rows_keeps_its_sample_and_only_those_rows_are_joined(
    tmp_path: Path,
) -> None:
    project = late_project(tmp_path, "[ingest]\nsample_rows = 100\n")
    cfg = load_config(project.config)
    frame = batch_frame(project, 0, rows=250)
    batch = process_unlabelled(project, cfg, frame, "big.csv")
    assert (batch.rows, batch.kept) == (250, 100)
    drop_labels(cfg, frame[["rid", "label"]], "all.csv")
    admit_all(cfg)
    out = joined(cfg, batch)
    assert out.labelled == 100 and set(out.frame["rid"]) < set(frame["rid"])
    stored = LabelStore(cfg.ledger_url).labels_for(cfg.model.name, frame["rid"].tolist())
    assert len(stored) == 250  # the others are kept, never joined to this batch


def test_a_label_record_reads_back_from_its_json_equal() -> None:
    record = LabelRecord(
        "b.csv", "ab" * 32, LabelAction.PROMOTED, label_files=["l1.csv"], kept=10, conflicts=1
    )
    data = json.loads(json.dumps(record.to_dict()))
    assert data["kind"] == "labels" and data["action"] == "promoted"
    assert LabelRecord.from_dict(data) == record
