"""A self-contained HTML page of a drift report: verdict, sorted table, inline SVG charts.

No scripts, no external files: the per-feature table is sorted by effect size (largest
first), numeric features get reference-vs-batch bars over the reference deciles and
categorical ones reference-vs-batch bars per category, all as inline SVG.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from driftloop.drift.outcome import DriftReport, FeatureDrift

__all__ = ["bar_chart_svg", "report_html"]

_REF, _BAT = "#4c72b0", "#dd8452"


def bar_chart_svg(labels: Sequence[str], reference: Sequence[float], batch: Sequence[float]) -> str:
    """Grouped bars of reference and batch shares per label, as an inline SVG element.

    Examples
    --------
    >>> svg = bar_chart_svg(["a", "b"], [3, 1], [1, 3])
    >>> svg.startswith("<svg") and svg.count("<rect") == 4
    True
    """
    ref_total, bat_total = sum(reference) or 1.0, sum(batch) or 1.0
    shares = [(r / ref_total, b / bat_total) for r, b in zip(reference, batch, strict=True)]
    top = max([max(pair) for pair in shares] + [1e-12])
    width, height, pad = max(240, 34 * len(labels)), 150, 20
    step = (width - pad) / max(1, len(labels))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}">']
    for i, (label, (r, b)) in enumerate(zip(labels, shares, strict=True)):
        x = pad + i * step
        for j, (share, colour) in enumerate(((r, _REF), (b, _BAT))):
            h = height * share / top
            parts.append(
                f'<rect x="{x + j * step * 0.4:.1f}" y="{height - h:.1f}" '
                f'width="{step * 0.38:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(label)}: {share:.3f}</title></rect>"
            )
        parts.append(
            f'<text x="{x:.1f}" y="{height + 14}" font-size="9">{escape(str(label)[:10])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _chart(item: FeatureDrift) -> str:
    """The chart of one feature, or an empty string when its details carry no counts."""
    d: dict[str, Any] = item.details
    if "histogram" in d:
        edges = d["histogram"]["edges"]
        labels = [f"<={e:.3g}" for e in edges] + [f">{edges[-1]:.3g}" if edges else "all"]
        return bar_chart_svg(
            labels, d["histogram"]["reference_counts"], d["histogram"]["batch_counts"]
        )
    names = d.get("categories") or d.get("bins")
    if names and "reference_counts" in d and "batch_counts" in d:
        return bar_chart_svg([str(n) for n in names], d["reference_counts"], d["batch_counts"])
    return ""


def _order(item: FeatureDrift) -> tuple[int, float]:
    """Sort key: features with an effect size first, largest effect first."""
    return (item.effect_size is None, -(item.effect_size or 0.0))


def report_html(report: DriftReport, title: str = "Drift report") -> str:
    """Render ``report`` as one self-contained HTML page.

    Examples
    --------
    >>> item = FeatureDrift("x", "numeric", "ks", 0.31, 1.2e-9, True, 1000, 200, 0, {}, 0.4)
    >>> page = report_html(DriftReport([item], 0.05, "holm", 200, 0.05))
    >>> page.startswith("<!DOCTYPE html>") and "Drift detected in 1 of 1" in page
    True
    """
    drifted = report.drifted_features
    verdict = (
        f"Drift detected in {len(drifted)} of {len(report.features)}: {', '.join(drifted)}"
        if drifted
        else f"No drift detected in {len(report.features)} tests"
    )
    rows, charts = [], []
    for item in sorted(report.features, key=_order):
        effect = "-" if item.effect_size is None else f"{item.effect_size:.4f}"
        flag = "<b>yes</b>" if item.drifted else "no"
        rows.append(
            f"<tr><td>{escape(item.feature)}</td><td>{escape(item.kind)}</td>"
            f"<td>{escape(item.test)}</td><td>{item.statistic:.4g}</td><td>{item.p_value:.3g}</td>"
            f"<td>{effect}</td><td>{flag}</td></tr>"
        )
        chart = _chart(item)
        if chart:
            charts.append(
                f"<figure><figcaption>{escape(item.feature)}</figcaption>{chart}</figure>"
            )
    legend = (
        f'<p><span style="color:{_REF}">&#9632; reference</span> '
        f'<span style="color:{_BAT}">&#9632; batch</span></p>'
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>body{{font-family:sans-serif;margin:2em}}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px}"
        "figure{display:inline-block;margin:1em}</style></head><body>"
        f"<h1>{escape(title)}</h1><h2>{escape(verdict)}</h2>"
        f"<p>alpha = {report.alpha:g}, correction = {escape(report.correction)}, batch rows = "
        f"{report.n_batch_rows}, effect-size floor = {report.effect_size_floor:g}</p>"
        "<table><tr><th>feature</th><th>kind</th><th>test</th><th>statistic</th><th>p-value</th>"
        f"<th>effect size</th><th>drifted</th></tr>{''.join(rows)}</table>"
        f"{legend}{''.join(charts)}</body></html>\n"
    )
