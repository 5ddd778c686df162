"""The version record: one serialisation, a handful of tags, and the tags of older releases."""

from __future__ import annotations

import json

from mlflow.entities.model_registry import ModelVersion, ModelVersionTag
from mlflow.tracking import MlflowClient

from driftloop.models.gate import judge
from driftloop.models.version_record import (
    SEARCHABLE,
    GateRecord,
    Lineage,
    Reference,
    ReplayInfo,
    VersionRecord,
    read_record,
)


def _record() -> VersionRecord:
    decision = judge(0.80, 0.86, 600, 0.01, champion_past=0.9, challenger_past=0.89, past_rows=50)
    return VersionRecord(
        model="churn",
        version="4",
        run_id="r4",
        lineage=Lineage("finetune", "b.csv", "ab" * 32, "drift-event", "3", False, True),
        reference=Reference("accuracy", 0.86, 180),
        replay=ReplayInfo(400, {"0": 900, "1": 700}, "replay/version-4.parquet"),
        gate=GateRecord.of(decision, 0.01, 0.02, "passed"),
    )


def test_a_record_reads_back_equal_from_its_json() -> None:
    record = _record()
    back = VersionRecord.from_json(record.to_json())
    assert back == record
    assert json.loads(record.to_json())["gate"]["checks"] == {
        "improvement": "pass",
        "forgetting": "pass",
    }


def test_a_record_gives_only_the_searchable_tags() -> None:
    tags = _record().tags()
    assert tags == {
        "gate": "promoted",
        "kind": "finetune",
        "trigger": "drift-event",
        "batch": "b.csv",
        "parent_version": "3",
        "reference_metric": "accuracy",
        "reference_score": "0.860000",
    }
    assert set(tags) == set(SEARCHABLE)


def test_a_version_of_an_older_release_is_read_from_its_tags(tmp_path) -> None:
    old = {
        "gate": "rejected",
        "gate_reason": "new data: no gain",
        "gate_metric": "accuracy",
        "kind": "scratch",
        "trigger": "manual",
        "batch": "b.csv",
        "batch_sha256": "cd" * 32,
        "parent_version": "2",
        "escalated": "true",
        "run_id": "r3",
        "reference_metric": "accuracy",
        "reference_score": "0.750000",
        "reference_rows": "120",
        "replay_seen": "1500",
    }
    tags = [ModelVersionTag(f"driftloop.{k}", v) for k, v in old.items()]
    mv = ModelVersion("churn", "3", 0, tags=tags)  # no run: nothing to download
    record = read_record(MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}"), mv)
    assert record.lineage == Lineage("scratch", "b.csv", "cd" * 32, "manual", "2", True, False)
    assert record.reference == Reference("accuracy", 0.75, 120)
    assert record.replay == ReplayInfo(0, {"__all__": 1500}, "")
    assert record.gate == GateRecord("rejected", "new data: no gain", "accuracy")
    assert record.run_id == "r3"
