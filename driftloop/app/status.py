"""`driftloop status`: the champion, its metrics, and the last batches with their verdicts."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from driftloop.core.config import Config
from driftloop.core.records import BatchRecord, Status
from driftloop.core.redact import redact
from driftloop.ingest.ledger_open import open_ledger
from driftloop.ingest.ledger_tables import LedgerEntry

if TYPE_CHECKING:
    from driftloop.models.registry_entries import RegistryView, VersionEntry


def collect_status(cfg: Config, limit: int = 10) -> dict[str, Any]:
    """Champion version, tags and run metrics, plus the most recent ledger entries."""
    from driftloop.models.history import CHAMPION, PREVIOUS
    from driftloop.models.registry_view import open_view

    view = open_view(cfg.mlflow_uri)  # reads the registry without importing MLflow
    name = cfg.model.name
    model = view.model(name)
    aliases = model.aliases if model else {}
    champion = aliases.get(CHAMPION)
    info: dict[str, Any] = {
        "model": name,
        "tracking_uri": redact(cfg.mlflow_uri),
        "champion_version": champion,
        "previous_version": aliases.get(PREVIOUS),
        "champion": None,
    }
    mv = view.version(name, champion) if champion is not None else None
    if mv is not None:
        info["champion"] = _champion(view, mv)
    info["batches"] = [_batch_line(e) for e in open_ledger(cfg).recent(limit)]
    return info


def _champion(view: RegistryView, mv: VersionEntry) -> dict[str, Any]:
    """The champion version as status shows it: tags, record and its run's metrics."""
    from driftloop.models.version_record import TAG, record_of, record_path

    text = view.run_artifact(mv.run_id, record_path(mv.version)) if mv.run_id else None
    record = record_of(mv.name, mv.version, mv.run_id, mv.tags, text)
    return {
        "version": mv.version,
        "run_id": mv.run_id,
        "tags": {k.removeprefix(TAG): v for k, v in mv.tags.items() if k.startswith(TAG)},
        "record": asdict(record),
        "metrics": view.run_metrics(mv.run_id) if mv.run_id else {},
    }


def _batch_line(e: LedgerEntry) -> dict[str, Any]:
    """A ledger entry as status shows it (a batch that never reached processing has no drift)."""
    r = BatchRecord.from_dict(e.result) if e.result else None
    return {
        "batch": e.batch,
        "status": e.status,
        "recorded_at": e.recorded_at,
        "rows": e.rows,
        "drift": None if r is None else r.drift,
        "drifted_features": [] if r is None else r.drifted_features,
        "action": e.status if r is None else r.action.value,
        "champion_version": None if r is None else r.champion_version,
        "reason": e.reason or ("" if r is None else r.reason),
    }


def format_status(info: dict[str, Any]) -> str:
    """The status as text for a terminal."""
    lines = [f"model {info['model']} in {info['tracking_uri']}"]
    ch = info["champion"]
    if ch is None:
        lines.append("  no champion yet: run `driftloop bootstrap --data FILE`")
    else:
        made, ref = ch["record"]["lineage"], ch["record"]["reference"]
        lines.append(
            f"  champion: version {ch['version']} ({made['kind']}, parent "
            f"{made['parent_version'] or '-'}), reference {ref['metric']} "
            f"{ref['score']:.4f} on {ref['rows']} rows"
        )
        lines.append(f"  previous: version {info['previous_version'] or '-'}")
    lines.append(f"last {len(info['batches'])} batch(es), newest first:")
    for b in info["batches"]:
        verdict = (
            "-"
            if b["drift"] is None
            else ("drift " + ",".join(b["drifted_features"]) if b["drift"] else "no drift")
        )
        lines.append(
            f"  {b['recorded_at']}  {b['batch']:<28} {b['status']:<12} {verdict:<30} "
            f"{b['action']:<16} v{b['champion_version'] or '-'}"
        )
        if b["status"] != Status.PROCESSED and b["reason"]:
            lines.append(f"      reason: {b['reason'][:160]}")
    return "\n".join(lines)
