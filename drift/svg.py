"""Inline SVG charts with axes: grouped reference-vs-batch bars and a line over batches.

Pure string building (no plotting library, no scripts), so a report stays one self-contained
file. Every chart has a y-axis with ticks and a title, an x-axis line, and x labels turned
45 degrees and thinned so they never overlap, whatever the range of the values.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["BATCH_COLOUR", "REF_COLOUR", "Marker", "bars_svg", "heat_colour", "line_svg", "short"]

REF_COLOUR, BATCH_COLOUR = "#4c72b0", "#dd8452"
_LEFT, _TOP, _BOTTOM, _HEIGHT = 56, 12, 74, 150
_MIN_LABEL_STEP = 14.0  # pixels between two turned labels: closer ones are thinned out


def short(value: float) -> str:
    """A number in at most about five characters: 0.0123, 12.3, 4.5k, 1.2M, -3e+09.

    Examples
    --------
    >>> [short(v) for v in (0.012345, 12.345, 4512.0, 1234567.0, -3e9, 0.0)]
    ['0.0123', '12.3', '4.51k', '1.23M', '-3e+09', '0']
    """
    size = abs(value)
    if size >= 1e9 or (0 < size < 1e-3):
        return f"{value:.2g}"
    for scale, suffix in ((1e6, "M"), (1e3, "k")):
        if size >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


def _ticks(top: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    raw = max(top, 1e-12) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(count + 1) if i * step <= top * 1.0001 + step]


def _y_axis(top: float, width: float, title: str, percent: bool) -> tuple[list[str], float]:
    """The y-axis: its line, ticks, grid lines and title, and the value at the axis top."""
    ticks = _ticks(top)
    high = ticks[-1] or 1.0
    parts = [f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{_TOP + _HEIGHT}" stroke="#333"/>']
    for tick in ticks:
        y = _TOP + _HEIGHT * (1 - tick / high)
        label = f"{tick * 100:.0f}%" if percent else short(tick)
        parts.append(
            f'<line x1="{_LEFT - 4}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{_LEFT - 6}" y="{y + 3:.1f}" font-size="10" text-anchor="end">{label}</text>'
        )
    parts.append(
        f'<text transform="translate(12,{_TOP + _HEIGHT / 2}) rotate(-90)" font-size="10" '
        f'text-anchor="middle">{escape(title)}</text>'
    )
    return parts, high


def _x_labels(labels: Sequence[str], step: float, title: str, width: float) -> list[str]:
    """Turned x labels under the axis line (every k-th one when they would crowd), and a title."""
    every = max(1, math.ceil(_MIN_LABEL_STEP / max(step, 1e-9)))
    base = _TOP + _HEIGHT
    parts = [f'<line x1="{_LEFT}" y1="{base}" x2="{width}" y2="{base}" stroke="#333"/>']
    for i, label in enumerate(labels):
        if i % every:
            continue
        x = _LEFT + (i + 0.5) * step
        parts.append(
            f'<text transform="translate({x:.1f},{base + 10}) rotate(-45)" font-size="10" '
            f'text-anchor="end">{escape(label[:14])}</text>'
        )
    parts.append(
        f'<text x="{(_LEFT + width) / 2:.0f}" y="{base + _BOTTOM - 4}" font-size="10" '
        f'text-anchor="middle">{escape(title)}</text>'
    )
    return parts


def bars_svg(
    labels: Sequence[str],
    reference: Sequence[float],
    batch: Sequence[float],
    x_title: str,
    y_title: str = "share of rows",
    shares: bool = True,
) -> str:
    """Grouped reference and batch bars per label with both axes, as an inline SVG element.

    ``shares``: each side is divided by its own total and the y-axis reads in percent;
    otherwise the values are drawn as given (an accuracy, a mean error).

    Examples
    --------
    >>> svg = bars_svg(["a", "b"], [3, 1], [1, 3], "category")
    >>> svg.startswith("<svg") and svg.count("<rect") == 4 and "80%" in svg
    True
    """
    if shares:
        ref_total, bat_total = sum(reference) or 1.0, sum(batch) or 1.0
        pairs = [(r / ref_total, b / bat_total) for r, b in zip(reference, batch, strict=True)]
    else:
        pairs = [(float(r), float(b)) for r, b in zip(reference, batch, strict=True)]
    width = _LEFT + max(240, 26 * len(labels)) + 8
    step = (width - 8 - _LEFT) / max(1, len(labels))
    axis, high = _y_axis(max([max(p) for p in pairs] + [1e-12]), width - 8, y_title, shares)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{_TOP + _HEIGHT + _BOTTOM}">',
        *axis,
    ]
    for i, (label, pair) in enumerate(zip(labels, pairs, strict=True)):
        for j, (value, colour, side) in enumerate(
            zip(pair, (REF_COLOUR, BATCH_COLOUR), ("reference", "batch"), strict=True)
        ):
            h = _HEIGHT * max(value, 0.0) / high
            parts.append(
                f'<rect x="{_LEFT + i * step + step * (0.1 + 0.4 * j):.1f}" '
                f'y="{_TOP + _HEIGHT - h:.1f}" width="{step * 0.38:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(label)} {side}: {value:.4g}</title></rect>'
            )
    parts += _x_labels(labels, step, x_title, width - 8)
    parts.append("</svg>")
    return "".join(parts)


@dataclass(frozen=True)
class Marker:
    """A labelled vertical line at one position of a line chart (a new version, an action)."""

    index: int
    label: str
    colour: str = "#2ca02c"


def line_svg(
    labels: Sequence[str],
    values: Sequence[float | None],
    y_title: str,
    markers: Sequence[Marker] = (),
    step: float = 40.0,
) -> str:
    """Points joined by a line over ``labels`` (None: no point, a gap), with vertical markers.

    Examples
    --------
    >>> svg = line_svg(["b1", "b2", "b3"], [0.9, None, 0.8], "accuracy", [Marker(2, "v2")])
    >>> svg.count("<circle"), "v2" in svg
    (2, True)
    """
    width = _LEFT + max(240.0, step * len(labels)) + 8
    step = (width - 8 - _LEFT) / max(1, len(labels))
    known = [v for v in values if v is not None]
    axis, high = _y_axis(max([*known, 1e-12]), width - 8, y_title, False)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
        f'height="{_TOP + _HEIGHT + _BOTTOM}">',
        *axis,
    ]
    for m in markers:
        x = _LEFT + (m.index + 0.5) * step
        parts.append(
            f'<line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{_TOP + _HEIGHT}" '
            f'stroke="{m.colour}" stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{_TOP + 10}" '
            f'font-size="10" fill="{m.colour}">{escape(m.label)}</text>'
        )
    points = [
        (_LEFT + (i + 0.5) * step, _TOP + _HEIGHT * (1 - v / high), v)
        for i, v in enumerate(values)
        if v is not None
    ]
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{REF_COLOUR}"/>')
    parts += [
        f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{REF_COLOUR}"><title>{v:.4g}</title>'
        "</circle>"
        for x, y, v in points
    ]
    parts += _x_labels(labels, step, "batch (oldest first)", width - 8)
    parts.append("</svg>")
    return "".join(parts)


def heat_colour(effect: float | None, full: float = 0.5) -> str:
    """Background colour of an effect-size cell: white at 0, deep red at ``full`` and above.

    Examples
    --------
    >>> heat_colour(0.0), heat_colour(0.5), heat_colour(None)
    ('#ffffff', '#d62728', '#f4f4f4')
    """
    if effect is None:
        return "#f4f4f4"
    t = min(1.0, max(0.0, effect / full))
    red, green, blue = (round(255 + t * (c - 255)) for c in (0xD6, 0x27, 0x28))
    return f"#{red:02x}{green:02x}{blue:02x}"
