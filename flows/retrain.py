"""The manual retrain trigger: fine-tune the champion on the latest labelled batch, same gate."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from prefect import flow, get_run_logger

from driftloop.core.errors import DriftloopError
from driftloop.core.records import BatchRecord, Status
from driftloop.flows.challenge import challenge_batch, request_for
from driftloop.flows.context import RunContext
from driftloop.flows.events import emit_challenge
from driftloop.flows.slots import retrain_slot, slot_options
from driftloop.flows.tasks import check_tracking_task, io, load_champion_task
from driftloop.ingest import Ledger, Zone
from driftloop.ingest.admit import read_validated
from driftloop.ingest.read import TEXT_FORMATS, batch_format
from driftloop.models.evaluate import metric_name
from driftloop.models.tracking import start_batch_run


@dataclass(frozen=True)
class RetrainResult:
    """What a retrain did: the batch, the challenger, the gate's decision and the champion now."""

    kind: str
    batch: str
    sha256: str
    action: str
    reason: str
    challenger_version: str
    champion_version: str
    previous_champion: str
    metric: str
    score_before: float
    score_after: float
    mlflow_run_id: str

    def to_dict(self) -> dict[str, Any]:
        """As `driftloop retrain --json` prints it (with the deprecated `accuracy_*` keys)."""
        out = asdict(self)
        classifier = self.metric == "accuracy"
        out["accuracy_before"] = self.score_before if classifier else None
        out["accuracy_after"] = self.score_after if classifier else None
        return out


def _labelled(entry_result: dict[str, Any]) -> bool:
    return BatchRecord.from_dict(entry_result).labelled


def latest_labelled_batch(ledger: Ledger, zone: Zone) -> tuple[str, str, str]:
    """Name, hash and path (in the zone) of the most recent processed batch with labels."""
    for entry in ledger.recent(limit=1000, status=Status.PROCESSED):
        if _labelled(entry.result) and zone.exists(entry.destination):
            return entry.batch, entry.sha256, entry.destination
    raise DriftloopError(
        "no processed batch with labels to retrain on; put a labelled batch in the landing "
        "folder and run `driftloop run` first."
    )


def chosen_batch(ledger: Ledger, zone: Zone, sha256: str) -> tuple[str, str, str]:
    """Name, hash and path of the processed batch with this hash (the latest labelled if "")."""
    if not sha256:
        return latest_labelled_batch(ledger, zone)
    entry = ledger.find(sha256, status=Status.PROCESSED)
    if entry is None or not zone.exists(entry.destination):
        raise DriftloopError(
            f"no processed batch with sha256 {sha256} in the ledger (or its file is gone from "
            "processed/); pass the hash of a processed batch, or none for the latest labelled one."
        )
    if not _labelled(entry.result):
        raise DriftloopError(f"batch {entry.batch} has no labels; a retrain needs labels.")
    return entry.batch, entry.sha256, entry.destination


def _retrain_run(ctx: RunContext, name: str, sha: str, params: dict[str, Any]) -> str:
    """The MLflow run of a retrain on a processed batch."""
    tags = {"driftloop.kind": "retrain", "driftloop.batch_sha256": sha}
    experiment = ctx.options.store.experiment
    return start_batch_run(ctx.client, experiment, f"retrain:{name}", params, tags)


@flow(name="retrain")
def retrain(
    config_path: str | None = None,
    force: bool = False,
    from_scratch: bool = False,
    batch_sha256: str = "",
    trigger: str = "manual",
) -> RetrainResult:
    """Fine-tune (or retrain from scratch) on a labelled batch, same gate, one run at a time.

    The batch is the latest labelled one, or the processed batch whose hash is
    `batch_sha256` (as a drift event passes it). The champion is loaded while holding the
    model's retrain slot, so concurrent triggers retrain one after the other, each from the
    champion the one before left.
    """
    ctx = RunContext.open(config_path)
    cfg = ctx.cfg
    io(check_tracking_task, cfg)(cfg.mlflow_uri)
    name, sha, path = chosen_batch(ctx.ledger, ctx.zone, batch_sha256)
    fp = ctx.zone.fingerprint(path, text=batch_format(name) in TEXT_FORMATS)
    frame, rows = read_validated(ctx.zone, path, name, fp, cfg)  # a sample of a large batch
    with retrain_slot(*slot_options(cfg)):
        champion = io(load_champion_task, cfg)(ctx)
        if champion.record.lineage.batch_sha256 == sha and not force:
            raise DriftloopError(
                f"champion version {champion.version} was already trained on {name}; pass "
                "--force (force=true) to fine-tune on it again."
            )
        params = {
            "batch": name,
            "sha256": sha,
            "rows": rows,
            "rows_used": len(frame),
            "force": force,
            "from_scratch": from_scratch,
            "champion_version": champion.version,
            "trigger": trigger,
        }
        run_id = _retrain_run(ctx, name, sha, params)
        request = request_for(name, sha, run_id, trigger, from_scratch)
        done = challenge_batch(ctx, champion, frame, request)
    get_run_logger().info("retrain on %s (%s): %s", name, trigger, done.reason)
    result = RetrainResult(
        done.kind,
        name,
        sha,
        done.action.value,
        done.reason,
        done.challenger_version,
        done.champion_version,
        champion.version,
        metric_name(champion.meta),
        done.score_before,
        done.score_after,
        run_id,
    )
    emit_challenge(cfg.model.name, done.action, result.to_dict())
    return result
