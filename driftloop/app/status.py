"""`driftloop status`: the champion, its metrics, and the last batches with their verdicts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from driftloop.core.config import Config
from driftloop.core.records import BatchRecord, Status
from driftloop.core.redact import redact
from driftloop.ingest import LedgerEntry, open_ledger


def collect_status(cfg: Config, limit: int = 10) -> dict[str, Any]:
    """Champion version, tags and run metrics, plus the most recent ledger entries."""
    from mlflow.tracking import MlflowClient

    from driftloop.flows.options import model_options
    from driftloop.models.registry import CHAMPION, PREVIOUS, alias_version, connect
    from driftloop.models.version_record import TAG, read_record

    client: MlflowClient = connect(model_options(cfg).store)
    name = cfg.model.name
    champion = alias_version(client, name, CHAMPION)
    info: dict[str, Any] = {
        "model": name,
        "tracking_uri": redact(cfg.mlflow_uri),
        "champion_version": champion,
        "previous_version": alias_version(client, name, PREVIOUS),
        "champion": None,
    }
    if champion is not None:
        mv = client.get_model_version(name, champion)
        tags = {k.removeprefix(TAG): v for k, v in mv.tags.items() if k.startswith(TAG)}
        metrics = dict(client.get_run(mv.run_id).data.metrics) if mv.run_id else {}
        info["champion"] = {
            "version": champion,
            "run_id": mv.run_id,
            "tags": tags,
            "record": asdict(read_record(client, mv)),
            "metrics": metrics,
        }
    info["batches"] = [_batch_line(e) for e in open_ledger(cfg).recent(limit)]
    return info


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
