"""The one-line-per-batch table that `driftloop run` and `driftloop demo` print."""

from __future__ import annotations

from typing import Any


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def format_row(r: dict[str, Any]) -> str:
    """One human-readable line of a batch record."""
    verdict = ("DRIFT " + ",".join(r["drifted_features"])) if r["drift"] else "no drift"
    if r["status"] != "processed":
        verdict = r["status"]
    return (
        f"{r['batch']:<24} {r['rows']:>6} {verdict[:44]:<44} {r['action']:<16} "
        f"v{_fmt(r['champion_version']):<4} {_fmt(r['accuracy_before']):>6} "
        f"{_fmt(r['accuracy_after']):>6}"
    )


HEADER = (
    f"{'batch':<24} {'rows':>6} {'drift':<44} {'action':<16} {'champ':<5} "
    f"{'before':>6} {'after':>6}"
)
