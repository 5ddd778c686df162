"""The one-line-per-batch table that `driftloop run` and `driftloop demo` print."""

from __future__ import annotations

from driftloop.core.records import BatchRecord, LabelRecord, Status


def _fmt(v: object) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def format_row(r: BatchRecord | LabelRecord) -> str:
    """One human-readable line of a batch record (or of a join of late labels)."""
    if isinstance(r, LabelRecord):
        clash = f", {r.conflicts} conflict(s)" if r.conflicts else ""
        verdict = f"late labels {r.labelled_share:.0%} of {r.kept}{clash}"
        return (
            f"{r.batch:<24} {r.labels_joined:>6} {verdict[:44]:<44} {r.action.value:<16} "
            f"v{_fmt(r.champion_version):<4} {_fmt(r.score_before):>6} {_fmt(r.score_after):>6}"
        )
    verdict = ("DRIFT " + ",".join(r.drifted_features)) if r.drift else "no drift"
    if r.status != Status.PROCESSED:
        verdict = r.status.value
    return (
        f"{r.batch:<24} {r.rows:>6} {verdict[:44]:<44} {r.action.value:<16} "
        f"v{_fmt(r.champion_version):<4} {_fmt(r.score_before):>6} "
        f"{_fmt(r.score_after):>6}"
    )


HEADER = (
    f"{'batch':<24} {'rows':>6} {'drift':<44} {'action':<16} {'champ':<5} "
    f"{'before':>6} {'after':>6}"
)
