"""Write, read and summarise drift reports (JSON file and markdown table)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from driftloop.drift.action import ActionTaken
from driftloop.drift.detect import DriftReport
from driftloop.drift.errors import ReportError
from driftloop.drift.signals import verdict

__all__ = ["read_json_report", "report_markdown", "write_json_report"]


def write_json_report(report: DriftReport, path: str | os.PathLike[str]) -> Path:
    """Write ``report`` as pretty UTF-8 JSON with sorted keys and return the path written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        text = json.dumps(
            report.to_dict(), indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as exc:
        raise ReportError(f"drift report is not JSON-serialisable: {exc}") from exc
    target.write_text(text + "\n", encoding="utf-8")
    return target


def read_json_report(path: str | os.PathLike[str]) -> DriftReport:
    """Read a report written by ``write_json_report``, raising ReportError if unreadable."""
    source = Path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ReportError(f"no drift report at {str(source)!r}") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"cannot read drift report {str(source)!r}: {exc}") from exc
    return DriftReport.from_dict(data)


def _cell(text: str) -> str:
    """Escape a value for a markdown table cell (underscores too: no bold ``__prediction__``)."""
    for char in ("\\", "|", "_", "*"):
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")


def report_markdown(report: DriftReport, action: ActionTaken | None = None) -> str:
    """Render a short markdown summary: a verdict line, the action, and a per-feature table.

    The verdict counts the batch's columns apart from the model signals (prediction drift,
    accuracy change, missing rates, joint test); test names in the table are escaped.

    Examples
    --------
    >>> from drift.detect import FeatureDrift
    >>> item = FeatureDrift("x", "numeric", "ks", 0.31, 1.2e-9, True, 1000, 200, 0)
    >>> print(report_markdown(DriftReport([item], 0.05, "bonferroni", 200)))
    ## Drift detected in 1 of 1 features: `x`
    <BLANKLINE>
    alpha = 0.05, correction = bonferroni, batch rows = 200, effect-size floor = 0
    <BLANKLINE>
    | feature | test | statistic | p-value | effect size | drifted |
    |---|---|---|---|---|---|
    | x | ks | 0.3100 | 1.2e-09 | - | **yes** |
    """
    lines = [f"## {verdict(report)}", ""]
    if action is not None:
        why = action.why(report.drift)
        lines += [f"Action: **{_cell(action.headline())}**" + (f" ({_cell(why)})" if why else "")]
        lines.append("")
    lines += [
        (
            f"alpha = {report.alpha:g}, correction = {report.correction}, "
            f"batch rows = {report.n_batch_rows}, effect-size floor = {report.effect_size_floor:g}"
        ),
        "",
        "| feature | test | statistic | p-value | effect size | drifted |",
        "|---|---|---|---|---|---|",
    ]
    for item in report.features:
        effect = "-" if item.effect_size is None else f"{item.effect_size:.4f}"
        lines.append(
            f"| {_cell(item.feature)} | {_cell(item.test)} | {item.statistic:.4f} "
            f"| {item.p_value:.3g} | {effect} | {'**yes**' if item.drifted else 'no'} |"
        )
    return "\n".join(lines)
