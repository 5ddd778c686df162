"""The record of one batch: what ingest made of it, what drifted, and what was done about it.

One definition, used by the flows that write it, the ledger that keeps it, `driftloop run
--json`, `status`, the demo and the events. Its JSON keys are the ones `run --json` has
always printed, plus `score_before` / `score_after` / `score_batch`, which hold the champion's
score in the metric named by `metric` ("accuracy" for a classifier, "rmse" for a regressor),
and `labelled`; a classifier's batch also has `estimated_score`, its accuracy estimated from
the champion's calibrated confidence (`drift/estimate.py`), within `estimate_low` ..
`estimate_high` (None for a regressor). The old `accuracy_*` keys are kept, deprecated: they
repeat the scores of a classifier and are null for a regressor (whose RMSE they used to carry
under that name).

Examples:
    >>> r = BatchRecord("b1.csv", Status.PROCESSED, rows=5, metric="accuracy", score_batch=0.9)
    >>> d = r.to_dict()
    >>> d["status"], d["action"], d["accuracy_batch"], d["labelled"]
    ('processed', 'none', 0.9, False)
    >>> BatchRecord.from_dict(d) == r
    True
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Where a batch stands: accepted for work, or its one end place (or still waiting)."""

    ACCEPTED = "accepted"
    WAITING = "waiting"
    PROCESSED = "processed"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    MISSING = "missing"


class Action(StrEnum):
    """What was done about a batch (a batch that ended elsewhere: the status it ended with)."""

    NONE = "none"
    PROMOTED = "promoted"
    REJECTED = "rejected"
    RECALLED = "recalled"
    DRIFT_EVENT = "drift-event"
    DRIFT_UNLABELLED = "drift-unlabelled"
    DRIFT_NO_LOSS = "drift-no-loss"
    DRIFT_COOLDOWN = "drift-cooldown"
    AT_RISK = "at-risk"
    WAITING = "waiting"
    FAILED = "failed"
    QUARANTINED = "quarantined"
    DUPLICATE = "duplicate"


CHALLENGED = frozenset({Action.PROMOTED, Action.REJECTED, Action.RECALLED, Action.DRIFT_EVENT})
"""Actions that challenged the champion: a challenger (inline or through the drift event), or a
past champion recalled."""

DEPRECATED_KEYS = {
    "accuracy_before": "score_before",
    "accuracy_after": "score_after",
    "accuracy_batch": "score_batch",
}
"""Old JSON keys and the field each repeats (for classifiers only)."""


@dataclass
class BatchRecord:
    """One batch's outcome, as `driftloop run --json` prints it and the ledger keeps it."""

    batch: str
    status: Status
    sha256: str = ""
    rows: int = 0
    reason: str = ""
    drift: bool = False
    drifted_features: list[str] = field(default_factory=list)
    p_values: dict[str, float] = field(default_factory=dict)
    action: Action = Action.NONE
    champion_version: str | None = None
    challenger_version: str | None = None
    metric: str | None = None
    score_before: float | None = None
    score_after: float | None = None
    score_batch: float | None = None
    labelled: bool = False
    estimated_score: float | None = None
    estimate_low: float | None = None
    estimate_high: float | None = None
    mlflow_run_id: str | None = None
    flow_run_id: str = ""
    task_run_id: str = ""
    attempts: int = 0

    def __post_init__(self) -> None:
        self.status = Status(self.status)
        self.action = Action(self.action)

    @classmethod
    def ended(cls, batch: str, status: Status, reason: str = "", **known: Any) -> BatchRecord:
        """The record of a batch that was not processed: its action is the status it ended with."""
        return cls(batch, status, reason=reason, action=Action(status.value), **known)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of `driftloop run --json` (plus the deprecated `accuracy_*` keys)."""
        out = asdict(self)
        out["status"], out["action"] = self.status.value, self.action.value
        classifier = self.metric in (None, "accuracy")
        for old, new in DEPRECATED_KEYS.items():
            out[old] = out[new] if classifier else None
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BatchRecord:
        """Read a record back (also one written before `score_*` and `labelled` existed)."""
        names = {f.name for f in fields(cls)}
        known = {k: v for k, v in data.items() if k in names}
        for old, new in DEPRECATED_KEYS.items():
            if new not in known and old in data:
                known[new] = data[old]
        known.setdefault("labelled", known.get("score_batch") is not None)
        known.setdefault("status", Status.PROCESSED)
        known.setdefault("batch", "")
        return cls(**known)


class LabelAction(StrEnum):
    """What a join of late labels did about a batch."""

    WAITING = "waiting-labels"  # labelled share below [labels] min_fraction
    NO_LOSS = "no-loss"  # the champion's errors on the labelled rows did not drift
    PROMOTED = "promoted"
    REJECTED = "rejected"
    RECALLED = "recalled"
    RECORDED = "recorded"  # challenged (or tested) before: the new labels are recorded only
    UNKNOWN_CLASSES = "unknown-classes"  # labels of classes the champion lacks: not tested yet


@dataclass
class LabelRecord:
    """One join of late labels to a processed batch, as `run --json` prints it (`kind` "labels").

    `labels_joined` counts the batch's kept rows that have a label (`labelled_share` of
    `kept`); `duplicates` counts label rows repeating an id's label, `conflicts` the ids given
    different labels (the label of the file admitted last is used; `conflict_ids` shows a few).
    `estimated_score` is the batch's label-free estimate when one was recorded, beside the
    realized `score_batch` on the labelled rows.
    """

    batch: str
    batch_sha256: str
    action: LabelAction
    reason: str = ""
    label_files: list[str] = field(default_factory=list)
    rows: int = 0
    kept: int = 0
    labels_joined: int = 0
    new_labels: int = 0
    labelled_share: float = 0.0
    duplicates: int = 0
    conflicts: int = 0
    conflict_ids: list[str] = field(default_factory=list)
    metric: str | None = None
    estimated_score: float | None = None
    score_batch: float | None = None
    p_value: float | None = None
    champion_version: str | None = None
    challenger_version: str | None = None
    score_before: float | None = None
    score_after: float | None = None
    kind: str = "labels"

    def __post_init__(self) -> None:
        self.action = LabelAction(self.action)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of `driftloop run --json` and of the ledger's label record."""
        out = asdict(self)
        out["action"] = self.action.value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelRecord:
        """Read a record back."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})
