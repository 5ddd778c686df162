"""The manual retrain trigger: fine-tune the champion on the latest labelled batch, same gate."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from driftloop.core.config import load_config
from driftloop.core.errors import DriftloopError
from driftloop.flows.lean import lean
from driftloop.flows.slots import retrain_slot, slot_options
from driftloop.flows.tasks import (
    challenge_task,
    check_tracking_task,
    io,
    load_champion_task,
    profile_task,
)
from driftloop.ingest import Ledger, Zone, open_ledger, zone_of
from driftloop.ingest.admit import read_validated
from driftloop.ingest.read import TEXT_FORMATS, batch_format
from driftloop.models.registry import TAG
from driftloop.models.tracking import start_batch_run


def latest_labelled_batch(ledger: Ledger, zone: Zone) -> tuple[str, str, str]:
    """Name, hash and path (in the zone) of the most recent processed batch with labels."""
    for entry in ledger.recent(limit=1000, status="processed"):
        if entry.result.get("accuracy_batch") is not None and zone.exists(entry.destination):
            return entry.batch, entry.sha256, entry.destination
    raise DriftloopError(
        "no processed batch with labels to retrain on; put a labelled batch in the landing "
        "folder and run `driftloop run` first."
    )


def chosen_batch(ledger: Ledger, zone: Zone, sha256: str) -> tuple[str, str, str]:
    """Name, hash and path of the processed batch with this hash (the latest labelled if "")."""
    if not sha256:
        return latest_labelled_batch(ledger, zone)
    entry = ledger.find(sha256, status="processed")
    if entry is None or not zone.exists(entry.destination):
        raise DriftloopError(
            f"no processed batch with sha256 {sha256} in the ledger (or its file is gone from "
            "processed/); pass the hash of a processed batch, or none for the latest labelled one."
        )
    if entry.result.get("accuracy_batch") is None:
        raise DriftloopError(f"batch {entry.batch} has no labels; a retrain needs labels.")
    return entry.batch, entry.sha256, entry.destination


@flow(name="retrain")
def retrain(
    config_path: str | None = None,
    force: bool = False,
    from_scratch: bool = False,
    batch_sha256: str = "",
    trigger: str = "manual",
) -> dict[str, Any]:
    """Fine-tune (or retrain from scratch) on a labelled batch, same gate, one run at a time.

    The batch is the latest labelled one, or the processed batch whose hash is
    `batch_sha256` (as a drift event passes it). The champion is loaded while holding the
    model's retrain slot, so concurrent triggers retrain one after the other, each from the
    champion the one before left.
    """
    cfg = load_config(config_path)
    logger = get_run_logger()
    io(check_tracking_task, cfg)(cfg)
    zone = zone_of(cfg)
    name, sha, path = chosen_batch(open_ledger(cfg), zone, batch_sha256)
    fp = zone.fingerprint(path, text=batch_format(name) in TEXT_FORMATS)
    frame, rows = read_validated(zone, path, name, fp, cfg)  # a sample of a large batch
    with retrain_slot(*slot_options(cfg)):
        client, champion = io(load_champion_task, cfg)(cfg)
        if champion.tags.get(TAG + "batch_sha256") == sha and not force:
            raise DriftloopError(
                f"champion version {champion.version} was already trained on {name}; pass "
                "--force (force=true) to fine-tune on it again."
            )
        run_id = start_batch_run(
            f"retrain:{name}",
            params={
                "batch": name,
                "sha256": sha,
                "rows": rows,
                "rows_used": len(frame),
                "force": force,
                "from_scratch": from_scratch,
                "champion_version": champion.version,
                "trigger": trigger,
            },
            tags={"driftloop.kind": "retrain", "driftloop.batch_sha256": sha},
        )
        outcome = lean(challenge_task)(
            champion,
            frame,
            lean(profile_task)(frame, cfg),
            cfg,
            client,
            run_id,
            {"batch_sha256": sha, "batch": name, "trigger": trigger},
            from_scratch,
        )
    d = outcome.decision
    logger.info("retrain on %s (%s): %s", name, trigger, d.reason)
    return {
        "kind": outcome.kind,
        "batch": name,
        "sha256": sha,
        "action": outcome.action,
        "reason": d.reason,
        "challenger_version": outcome.challenger_version,
        "champion_version": outcome.champion_version,
        "previous_champion": champion.version,
        "accuracy_before": d.champion_accuracy,
        "accuracy_after": d.challenger_accuracy if d.promote else d.champion_accuracy,
        "mlflow_run_id": run_id,
    }
