"""A self-contained HTML page of one batch's drift report.

No scripts, no external files. From the top: the verdict (features and model signals counted
apart), the action taken and why, a dataset summary (rows, missing values), one row per
column with reference-vs-batch statistics (mean and standard deviation, or the most frequent
categories), the model signals (predictions, accuracy, missing rates, joint test), and an
inline SVG chart with axes for every column and for the prediction and accuracy tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from driftloop.drift.action import ActionTaken
from driftloop.drift.outcome import DriftReport, FeatureDrift
from driftloop.drift.signals import column_tests, signal_name, signal_tests, verdict
from driftloop.drift.svg import BATCH_COLOUR, REF_COLOUR, bars_svg, short

__all__ = ["STYLE", "bar_chart_svg", "report_html"]

STYLE = (
    "body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;"
    "margin:.5em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left}"
    "th{background:#f4f4f4}td.num{text-align:right}tr.drifted td{background:#fdecea}"
    "figure{display:inline-block;margin:1em;vertical-align:top}figcaption{font-weight:bold}"
    ".action{font-size:1.1em;padding:.4em .8em;background:#eef4fb;border-left:4px solid "
    "#4c72b0}.note{color:#666}"
)
"""The page's style sheet (shared with the drift-over-time page)."""


def bar_chart_svg(labels: Sequence[str], reference: Sequence[float], batch: Sequence[float]) -> str:
    """Grouped bars of reference and batch shares per label, as an inline SVG element.

    Examples
    --------
    >>> svg = bar_chart_svg(["a", "b"], [3, 1], [1, 3])
    >>> svg.startswith("<svg") and svg.count("<rect") == 4
    True
    """
    return bars_svg(labels, reference, batch, "value")


def _histogram_labels(edges: Sequence[float]) -> list[str]:
    """Bin labels of a histogram over inner ``edges``: "<=e1", ..., ">ek", numbers kept short."""
    if not edges:
        return ["all"]
    return [f"\u2264{short(e)}" for e in edges] + [f">{short(edges[-1])}"]


def _chart(item: FeatureDrift) -> str:
    """The chart of one test, or an empty string when its details carry nothing to plot."""
    d: dict[str, Any] = item.details
    x_title = "predicted probability" if item.kind == "prediction" else item.feature
    if "histogram" in d:
        h = d["histogram"]
        labels = _histogram_labels(h["edges"])
        return bars_svg(labels, h["reference_counts"], h["batch_counts"], x_title)
    names = d.get("categories") or d.get("bins")
    if names and "reference_counts" in d and "batch_counts" in d:
        x_title = "predicted class" if item.kind == "prediction" else item.feature
        return bars_svg([str(n) for n in names], d["reference_counts"], d["batch_counts"], x_title)
    if "estimated_accuracy" in d:  # the label-free estimate: no labelled rows behind it
        values = [d["reference_accuracy"]], [d["estimated_accuracy"]]
        return bars_svg(["accuracy"], *values, "estimated, no labels", "accuracy", shares=False)
    if "reference_accuracy" in d:
        values = [d["reference_accuracy"]], [d["batch_accuracy"]]
        return bars_svg(["accuracy"], *values, "labelled rows", "accuracy", shares=False)
    if "reference_mean_error" in d:
        values = [d["reference_mean_error"]], [d["batch_mean_error"]]
        return bars_svg(["mean error"], *values, "labelled rows", "mean error", shares=False)
    return ""


def _order(item: FeatureDrift) -> tuple[int, float]:
    """Sort key: features with an effect size first, largest effect first."""
    return (item.effect_size is None, -(item.effect_size or 0.0))


def _stats(item: FeatureDrift, side: str) -> str:
    """One side's statistics of a column: "mean 1.2, sd 0.3", or its top categories."""
    d = item.details
    summary = d.get("summary")
    if summary and summary.get(f"{side}_mean") is not None:
        return f"mean {short(summary[f'{side}_mean'])}, sd {short(summary[f'{side}_std'])}"
    top = d.get("top_categories")
    if top:
        at = 1 if side == "reference" else 2
        return ", ".join(f"{escape(str(row[0]))} {row[at] * 100:.0f}%" for row in top[:3])
    return "-"


def _cells(item: FeatureDrift) -> str:
    """Test, statistic, p-value, effect size and verdict cells of one test."""
    effect = "-" if item.effect_size is None else f"{item.effect_size:.4f}"
    return (
        f"<td>{escape(item.test)}</td><td class='num'>{item.statistic:.4g}</td>"
        f"<td class='num'>{item.p_value:.3g}</td><td class='num'>{effect}</td>"
        f"<td>{'<b>yes</b>' if item.drifted else 'no'}</td>"
    )


def _columns_table(items: list[FeatureDrift]) -> str:
    """One row per column: its test and verdict, and reference-vs-batch statistics."""
    rows = [
        f"<tr class='{'drifted' if item.drifted else ''}'><td><code>{escape(item.feature)}"
        f"</code></td><td>{escape(item.kind)}</td>{_cells(item)}<td>{_stats(item, 'reference')}"
        f"</td><td>{_stats(item, 'batch')}</td><td class='num'>{item.missing_batch}</td></tr>"
        for item in sorted(items, key=_order)
    ]
    return (
        "<h3>Columns</h3><table><tr><th>feature</th><th>kind</th><th>test</th><th>statistic</th>"
        "<th>p-value</th><th>effect size</th><th>drifted</th><th>reference</th><th>batch</th>"
        f"<th>missing in batch</th></tr>{''.join(rows)}</table>"
    )


def _signals_table(items: list[FeatureDrift]) -> str:
    """One row per model signal (predictions, accuracy, missing rates, joint test)."""
    if not items:
        return ""
    rows = [
        f"<tr class='{'drifted' if item.drifted else ''}'><td>{escape(signal_name(item))} "
        f"<code>{escape(item.feature)}</code></td>{_cells(item)}</tr>"
        for item in items
    ]
    return (
        "<h3>Model signals</h3><table><tr><th>signal</th><th>test</th><th>statistic</th>"
        f"<th>p-value</th><th>effect size</th><th>drifted</th></tr>{''.join(rows)}</table>"
    )


def _dataset_summary(report: DriftReport, columns: list[FeatureDrift]) -> str:
    """Rows on both sides, columns tested, and the missing values of the batch."""
    missing = {item.feature: item.missing_batch for item in columns if item.missing_batch}
    total = sum(missing.values())
    where = ", ".join(f"{escape(k)} {v}" for k, v in missing.items()) if missing else "none"
    ref_rows = max((item.n_reference for item in columns), default=0)
    return (
        "<h3>Dataset summary</h3><table>"
        f"<tr><th>batch rows</th><td class='num'>{report.n_batch_rows}</td></tr>"
        f"<tr><th>reference rows (profile)</th><td class='num'>{ref_rows}</td></tr>"
        f"<tr><th>columns tested</th><td class='num'>{len(columns)}</td></tr>"
        f"<tr><th>missing values in the batch</th><td class='num'>{total}</td></tr>"
        f"<tr><th>columns with missing values</th><td>{where}</td></tr></table>"
    )


def _action_line(action: ActionTaken | None, drift: bool) -> str:
    """The action taken on the batch and why, or nothing when no action is given."""
    if action is None:
        return ""
    reason = action.why(drift)
    why = f" because {escape(reason)}" if reason else ""
    return f"<p class='action'>Action: <b>{escape(action.headline())}</b>{why}</p>"


def _charts(report: DriftReport) -> str:
    """A captioned chart per test that has something to plot, features first."""
    figures = []
    for item in [*sorted(column_tests(report), key=_order), *signal_tests(report)]:
        chart = _chart(item)
        if chart:
            caption = item.feature if item.kind in ("numeric", "categorical") else signal_name(item)
            mark = " (drifted)" if item.drifted else ""
            figures.append(
                f"<figure><figcaption>{escape(caption)}{mark}</figcaption>{chart}</figure>"
            )
    legend = (
        f'<p><span style="color:{REF_COLOUR}">&#9632; reference</span> '
        f'<span style="color:{BATCH_COLOUR}">&#9632; batch</span></p>'
    )
    return f"<h3>Distributions</h3>{legend}{''.join(figures)}" if figures else ""


def report_html(
    report: DriftReport, title: str = "Drift report", action: ActionTaken | None = None
) -> str:
    """Render ``report`` as one self-contained HTML page (with the action taken, when given).

    Examples
    --------
    >>> item = FeatureDrift("x", "numeric", "ks", 0.31, 1.2e-9, True, 1000, 200, 0, {}, 0.4)
    >>> taken = ActionTaken("promoted", "it beat the champion", "2")
    >>> page = report_html(DriftReport([item], 0.05, "holm", 200, 0.05), action=taken)
    >>> page.startswith("<!DOCTYPE html>") and "Drift detected in 1 of 1 features" in page
    True
    >>> "Action: <b>promoted to v2</b> because it beat the champion" in page
    True
    """
    columns = column_tests(report)
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
        f"<h1>{escape(title)}</h1><h2>{escape(verdict(report, code=''))}</h2>"
        f"{_action_line(action, report.drift)}"
        f"<p class='note'>alpha = {report.alpha:g}, correction = {escape(report.correction)}, "
        f"effect-size floor = {report.effect_size_floor:g}; a test drifts when it is significant "
        "after the correction and its effect size reaches the floor.</p>"
        f"{_dataset_summary(report, columns)}{_columns_table(columns)}"
        f"{_signals_table(signal_tests(report))}{_charts(report)}</body></html>\n"
    )
