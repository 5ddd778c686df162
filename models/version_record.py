"""What driftloop knows about one model version, as one JSON document on the version's run.

A version carries only a handful of searchable tags (`SEARCHABLE`: what users filter the
registry by); everything else (lineage, the reference score, the replay rows it was made
with, the gate's scores, checks and thresholds) is a `VersionRecord`, serialised here and
nowhere else, stored as the artifact `driftloop/version-<N>.json` of the run that made the
version (the MLflow UI lists it with the run's files). Versions made by older releases have
no record: `read_record` rebuilds one from their `driftloop.*` tags (`record_from_tags`).
Parsing a record imports no MLflow (`driftloop status` reads it without MLflow).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftloop.core.redact import redact
from driftloop.models.gate import GateDecision

if TYPE_CHECKING:  # parsing a record needs no MLflow; only the readers and writers below do
    from mlflow.entities.model_registry import ModelVersion
    from mlflow.tracking import MlflowClient

TAG = "driftloop."
SCHEMA = 1
RECORD_DIR = "driftloop"
SEARCHABLE = (
    "gate",
    "kind",
    "trigger",
    "batch",
    "parent_version",
    "reference_metric",
    "reference_score",
)


@dataclass(frozen=True)
class Lineage:
    """How a version was made: from which version, on which batch, by which trigger."""

    kind: str
    batch: str
    batch_sha256: str
    trigger: str
    parent_version: str = ""
    escalated: bool = False
    concept_changed: bool = False
    concept_reason: str = ""  # realized against estimated accuracy (models/concept.py)


@dataclass(frozen=True)
class Reference:
    """The version's score on rows it was not trained on, when it was made."""

    metric: str
    score: float
    rows: int


@dataclass(frozen=True)
class ReplayInfo:
    """The replay rows stored for the version: how many, the reservoir counts, where."""

    rows: int
    seen: dict[str, int] = field(default_factory=dict)
    artifact: str = ""  # run artifact path of the rows; "" when no rows were stored


@dataclass(frozen=True)
class GateRecord:
    """The gate's decision on the version: verdict, reason, both models' scores, thresholds."""

    decision: str
    reason: str
    metric: str = ""
    champion_new: float | None = None
    challenger_new: float | None = None
    holdout_rows: int = 0
    champion_past: float | None = None
    challenger_past: float | None = None
    past_rows: int = 0
    checks: dict[str, str] = field(default_factory=dict)
    min_improvement: float | None = None
    max_forgetting: float | None = None
    mlflow_validation: str = ""  # what mlflow.validate_evaluation_results said (gate_evaluation)

    @classmethod
    def of(
        cls,
        d: GateDecision,
        min_improvement: float | None,
        max_forgetting: float | None,
        mlflow_validation: str = "",
    ) -> GateRecord:
        """The record of a challenger's gate decision, with the thresholds it was held to."""
        return cls(
            decision="promoted" if d.promote else "rejected",
            reason=d.reason,
            metric=d.metric,
            champion_new=d.champion_new,
            challenger_new=d.challenger_new,
            holdout_rows=d.holdout_rows,
            champion_past=d.champion_past,
            challenger_past=d.challenger_past,
            past_rows=d.past_rows,
            checks=dict(d.checks),
            min_improvement=min_improvement,
            max_forgetting=max_forgetting,
            mlflow_validation=mlflow_validation,
        )


@dataclass(frozen=True)
class VersionRecord:
    """Everything driftloop stores about a version beyond its searchable tags."""

    model: str
    version: str
    run_id: str
    lineage: Lineage
    reference: Reference
    replay: ReplayInfo
    gate: GateRecord | None = None
    schema: int = SCHEMA

    def tags(self) -> dict[str, str]:
        """The searchable version tags, without the `driftloop.` prefix."""
        r, g = self.lineage, self.gate
        values = {
            "gate": g.decision if g else "",
            "kind": r.kind,
            "trigger": r.trigger,
            "batch": r.batch,
            "parent_version": r.parent_version,
            "reference_metric": self.reference.metric,
            "reference_score": f"{self.reference.score:.6f}",
        }
        return {k: v[:5000] for k, v in values.items() if k in SEARCHABLE and v}

    def to_json(self) -> str:
        """The record as a JSON text."""
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VersionRecord:
        """Read a record written by `to_json`."""
        data = json.loads(text)
        gate = data.get("gate")
        return cls(
            model=data["model"],
            version=str(data["version"]),
            run_id=data["run_id"],
            lineage=Lineage(**data["lineage"]),
            reference=Reference(**data["reference"]),
            replay=ReplayInfo(**data["replay"]),
            gate=GateRecord(**gate) if gate else None,
            schema=int(data.get("schema", SCHEMA)),
        )


def record_path(version: str) -> str:
    """The run artifact path of a version's record."""
    return f"{RECORD_DIR}/version-{version}.json"


def where_recorded(version: str) -> str:
    """The sentence a version's description ends with: where the rest of it is stored."""
    return (
        f"Lineage, gate scores and thresholds: {record_path(version)}; replay rows: "
        f"replay/version-{version}.parquet (none when replay_rows = 0); both on the source run."
    )


def write_record(client: MlflowClient, record: VersionRecord) -> None:
    """Store the record on its run and set the version's searchable tags from it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(record_path(record.version)).name
        path.write_text(redact(record.to_json()), "utf-8")
        client.log_artifact(record.run_id, str(path), RECORD_DIR)
    for key, value in record.tags().items():
        client.set_model_version_tag(record.model, record.version, TAG + key, redact(value))


def read_record(client: MlflowClient, mv: ModelVersion) -> VersionRecord:
    """The record of a version: from its run, or rebuilt from the tags of an older release."""
    from driftloop.models.registry_client import download_text

    version = str(mv.version)
    text = download_text(client, mv.run_id, record_path(version)) if mv.run_id else None
    return record_of(mv.name, version, mv.run_id, mv.tags, text)


def record_of(
    model: str, version: str, run_id: str | None, tags: Mapping[str, str], text: str | None
) -> VersionRecord:
    """The record from its stored text, or rebuilt from the version's tags when it has none."""
    if text:
        return VersionRecord.from_json(text)
    return record_from_tags(model, version, run_id or "", tags)


def with_gate(record: VersionRecord, gate: GateRecord) -> VersionRecord:
    """The record with the gate's decision on the version."""
    return replace(record, gate=gate)


def record_from_tags(
    model: str, version: str, run_id: str, version_tags: Mapping[str, str]
) -> VersionRecord:
    """A record rebuilt from the `driftloop.*` tags versions of older releases carry."""
    tags = {k.removeprefix(TAG): v for k, v in version_tags.items() if k.startswith(TAG)}
    seen: Any = json.loads(tags["replay_seen"]) if tags.get("replay_seen") else {}
    gate = None
    if tags.get("gate"):
        gate = GateRecord(tags["gate"], tags.get("gate_reason", ""), tags.get("gate_metric", ""))
    return VersionRecord(
        model=model,
        version=version,
        run_id=tags.get("run_id", run_id),
        lineage=Lineage(
            kind=tags.get("kind", ""),
            batch=tags.get("batch", ""),
            batch_sha256=tags.get("batch_sha256", ""),
            trigger=tags.get("trigger", ""),
            parent_version=tags.get("parent_version", ""),
            escalated=tags.get("escalated") == "true",
            concept_changed=tags.get("concept_changed") == "true",
        ),
        reference=Reference(
            tags.get("reference_metric", ""),
            float(tags.get("reference_score", "nan")),
            int(tags.get("reference_rows", "0")),
        ),
        # their replay rows are inside the model's artifact (`replay_artifact.LEGACY_FILE`)
        replay=ReplayInfo(0, seen if isinstance(seen, dict) else {"__all__": int(seen)}),
        gate=gate,
    )
