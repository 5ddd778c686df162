"""`driftloop report`: one self-contained HTML page of the batches over time.

Rows are batches, oldest first, so every column shares one time axis: when it was recorded,
the batch (linked to its own drift report, written next to the page), the action taken (for
a batch that was not processed: the status it ended with), the champion version (bold where
it changed), the champion's realized score on the batch's labels, and a heat map of every
feature's effect size (drifted cells outlined and marked); a batch's reason sits in a row
under it. Above the table, the realized score per batch as a line, with a dashed line where
a new champion version took over or a challenger was rejected. No scripts, no network:
inline CSS and SVG only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from pathlib import Path

from driftloop.app.timeline import BatchView, load_timeline
from driftloop.core.config import Config
from driftloop.core.records import Action, BatchRecord
from driftloop.drift.action import ActionTaken
from driftloop.drift.html import STYLE, report_html
from driftloop.drift.outcome import FeatureDrift
from driftloop.drift.signals import FEATURE_KINDS, signal_name
from driftloop.drift.svg import Marker, heat_colour, line_svg

__all__ = ["PAGE_NAME", "write_report"]

PAGE_NAME = "drift-over-time.html"
ESTIMATED_NOTE = (
    "Estimated: the champion's accuracy predicted from its calibrated confidence, without "
    "labels, and its 95% band (classifiers; a regressor's stays empty). An unlabelled batch "
    "has no realized score."
)
_ACTION_COLOURS = {
    Action.PROMOTED: "#2ca02c",
    Action.RECALLED: "#9467bd",
    Action.REJECTED: "#ff7f0e",
    Action.QUARANTINED: "#d62728",
    Action.FAILED: "#d62728",
    Action.DUPLICATE: "#7f7f7f",
}
_PAGE_STYLE = (
    "table.batches{font-size:.9em}.badge{white-space:nowrap}"
    "td.heat{text-align:right;min-width:3em;font-variant-numeric:tabular-nums}"
    "td.heat.drifted{outline:2px solid #7a0d0d;outline-offset:-2px;font-weight:bold}"
    ".badge{display:inline-block;padding:0 .4em;border-radius:3px;color:#fff}"
    "tr.changed td.version{font-weight:bold;background:#e8f5e9}"
    "th.rot{white-space:nowrap}td.when{white-space:nowrap}"
    "tr.reason td{border-top:none;color:#555;font-size:.85em;padding-top:0}"
)


def _page_name(view: BatchView) -> str:
    """The file name of one batch's report: its position and a file-safe batch name."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", view.entry.batch)[:80]
    return f"batches/{view.position:04d}-{safe}.html"


def _columns(views: Sequence[BatchView]) -> tuple[list[str], list[str]]:
    """Feature names and model-signal names over all reports, in order of first appearance."""
    features: dict[str, None] = {}
    signals: dict[str, None] = {}
    for view in views:
        for item in view.report.features if view.report else []:
            (features if item.kind in FEATURE_KINDS else signals)[item.feature] = None
    return list(features), list(signals)


def _heat_cells(view: BatchView, names: Sequence[str]) -> str:
    """One effect-size cell per name: coloured by size, outlined and marked when drifted."""
    found = {item.feature: item for item in view.report.features} if view.report else {}
    cells = []
    for name in names:
        item = found.get(name)
        if item is None:
            cells.append("<td class='heat'></td>")
            continue
        effect, change = item.effect_size, item.details.get("change")
        text = "-" if effect is None else f"{effect:.2f}"
        if effect is None and isinstance(change, float):
            text = f"{change:+.2f}"  # the accuracy test: batch minus reference accuracy
        mark = " drifted" if item.drifted else ""
        title = f"{name}: effect {text}, p {item.p_value:.3g}{', drifted' if mark else ''}"
        cells.append(
            f"<td class='heat{mark}' style='background:{heat_colour(effect, 1.0)}' "
            f"title='{escape(title)}'>{'&#9679; ' if mark else ''}{text}</td>"
        )
    return "".join(cells)


def _batch_cell(view: BatchView, page: str) -> str:
    """The batch's name, linked to its report when it has one (else why not)."""
    name = escape(view.entry.batch)
    if page:
        return f"<td><a href='{escape(page)}'>{name}</a></td>"
    why = view.missing_report or "no drift report: the batch never reached the drift check"
    return f"<td>{name}<br><span class='note'>{escape(why)}</span></td>"


def _estimated(r: BatchRecord) -> str:
    """The estimated score and its band, as a cell ("" without an estimate)."""
    if r.estimated_score is None:
        return ""
    return f"{r.estimated_score:.4f} [{r.estimate_low or 0:.3f}, {r.estimate_high or 0:.3f}]"


def _row(view: BatchView, page: str, previous: str | None, names: Sequence[str]) -> str:
    """One batch as a table row, and its reason (when it has one) as a full-width row under it."""
    r = view.record
    colour = _ACTION_COLOURS.get(r.action, "#4c72b0" if r.action != Action.NONE else "#bbb")
    changed = previous is not None and r.champion_version not in (None, previous)
    score = "" if r.score_batch is None else f"{r.score_batch:.4f}"
    estimated = _estimated(r)
    reason = r.reason or view.entry.reason
    when = escape(view.entry.recorded_at[:19].replace("T", " "))
    under = f"<tr class='reason'><td></td><td colspan='{8 + len(names)}'>{escape(reason)}</td></tr>"
    return (
        f"<tr class='batch{' changed' if changed else ''}'><td class='num'>{view.position}</td>"
        f"<td class='when'>{when}</td>{_batch_cell(view, page)}"
        f"<td class='num'>{view.entry.rows}</td>"
        f"<td title='status: {escape(r.status.value)}'><span class='badge' "
        f"style='background:{colour}'>{escape(r.action.value)}</span>"
        f"</td><td class='version'>{escape(r.champion_version or '-')}</td>"
        f"<td>{escape(r.challenger_version or '')}</td><td class='num'>{score}</td>"
        f"<td class='num'>{estimated}</td>{_heat_cells(view, names)}</tr>"
        f"{under if reason else ''}"
    )


def _metric(views: Sequence[BatchView]) -> str:
    """The metric the champion's scores are in (the first record that names one)."""
    return next((v.record.metric for v in views if v.record.metric), None) or "score"


def _score_chart(views: Sequence[BatchView], metric: str) -> str:
    """The realized score per batch, with a marker where the champion version changed."""
    markers, previous = [], None
    for i, view in enumerate(views):
        version = view.record.champion_version
        if version and previous and version != previous:
            markers.append(Marker(i, f"v{version} ({view.record.action.value})"))
        elif view.record.action in (Action.REJECTED, Action.RECALLED):
            colour = _ACTION_COLOURS[view.record.action]
            markers.append(Marker(i, view.record.action.value, colour))
        previous = version or previous
    values = [v.record.score_batch for v in views]
    step = max(4.0, min(40.0, 1200.0 / max(1, len(views))))  # at most ~1200 px wide
    title = f"champion {metric} (realized)"
    return line_svg([v.label for v in views], values, title, markers, step)


def _table(views: Sequence[BatchView], pages: Sequence[str], metric: str) -> str:
    """The batches table: one row per batch, oldest first, with the effect-size heat map."""
    features, signals = _columns(views)
    heads = [escape(n) for n in features] + [escape(signal_name_of(n)) for n in signals]
    rows, previous = [], None
    for view, page in zip(views, pages, strict=True):
        rows.append(_row(view, page, previous, [*features, *signals]))
        previous = view.record.champion_version or previous
    return (
        "<table class='batches'><tr><th>#</th><th>recorded (UTC)</th><th>batch</th><th>rows</th>"
        f"<th>action</th><th>champion</th><th>challenger</th><th>{escape(metric)} (realized)"
        f"</th><th>{escape(metric)} (estimated)</th>"
        + "".join(f"<th class='rot'>{h}</th>" for h in heads)
        + f"</tr>{''.join(rows)}</table>"
    )


def signal_name_of(name: str) -> str:
    """A model signal's column heading: "prediction drift", "accuracy", "missing rate of x"."""
    words = signal_name(FeatureDrift(name, "extra", "", 0.0, 1.0, False, 0, 0, 0))
    return "accuracy" if words.startswith("accuracy") else words


def render_page(views: Sequence[BatchView], pages: Sequence[str], model: str) -> str:
    """The drift-over-time page of ``views`` whose reports are at ``pages`` ("" for none)."""
    metric = _metric(views)
    body = "<p>No batch recorded yet: drop files into the landing folder and run "
    body += "<code>driftloop run</code>.</p>"
    if views:
        first, end = (v.entry.recorded_at[:19].replace("T", " ") for v in (views[0], views[-1]))
        span = f"{first} to {end} UTC"
        body = (
            f"<p>{len(views)} batch(es), oldest first, {escape(span)}. Cells: effect size of "
            "each feature (normalised Wasserstein distance for numbers, Jensen-Shannon distance "
            "for categories; for accuracy: its change from the reference); &#9679; and an "
            "outline mark a drifted test. Each batch links to its own report.</p>"
            f"{_score_chart(views, metric)}<p class='note'>{ESTIMATED_NOTE}"
            f"</p>{_table(views, pages, metric)}"
        )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>Drift over time: {escape(model)}</title><style>{STYLE}{_PAGE_STYLE}</style>"
        f"</head><body><h1>Drift over time: {escape(model)}</h1>{body}</body></html>\n"
    )


def write_report(cfg: Config, out: Path | None = None, last: int = 50) -> Path:
    """Write the drift-over-time page and each batch's own report under ``out``; return the page."""
    folder = out or cfg.work_dir / "reports"
    views = load_timeline(cfg, last)
    (folder / "batches").mkdir(parents=True, exist_ok=True)
    pages = []
    for view in views:
        if view.report is None:
            pages.append("")
            continue
        page = _page_name(view)
        r = view.record
        taken = ActionTaken(r.action.value, r.reason, r.challenger_version)
        html = report_html(view.report, f"Drift report of {view.entry.batch}", taken)
        (folder / page).write_text(html, encoding="utf-8")
        pages.append(page)
    target = folder / PAGE_NAME
    target.write_text(render_page(views, pages, cfg.model.name), encoding="utf-8")
    return target
