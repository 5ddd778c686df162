"""Covariate shift or concept change: the champion's realized accuracy against its estimate.

When labels come, the accuracy the champion's calibrated confidence predicted for the rows
(`drift/estimate.py`) is set against the accuracy it got, on the rows inside the reference's
support (`drift/support.py`): outside it the model extrapolates, and its errors there show
what it never saw, not a changed rule. Realized within (or above) the band:
the rows moved, but the model's rule still holds (a covariate shift), so past labels still
bind and the forgetting guard stays on. Realized below the band: the model is as sure as
before and wrong, its rule no longer holds (a concept change), and the guard may be skipped.
With too few rows inside the support there is no evidence against the old rule: no concept
change. A version stored without a calibration (a regressor, or one made before it was
stored) falls back to the performance test: errors that differ significantly from its
reference.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConceptVerdict:
    """Whether the concept changed, the numbers behind it, and why, in words."""

    changed: bool
    reason: str
    realized: float
    estimated: float | None = None
    low: float | None = None
    high: float | None = None


def concept_verdict(
    estimated: float | None,
    band: tuple[float, float] | None,
    realized: float,
    errors_changed: bool = False,
) -> ConceptVerdict:
    """Concept change iff realized accuracy is below the estimate's band (else: the fallback).

    `errors_changed`: the performance test's verdict, used when there is no estimate.

    Examples:
        >>> concept_verdict(0.93, (0.91, 0.95), 0.92).changed
        False
        >>> v = concept_verdict(0.93, (0.91, 0.95), 0.55)
        >>> v.changed, v.reason[:50]
        (True, 'concept change: realized accuracy 0.5500 below the')
        >>> concept_verdict(None, None, 0.55, errors_changed=True).reason
        'concept change: no estimate; the errors differ significantly from the reference'
    """
    if estimated is None or band is None:
        changed = errors_changed
        why = "differ significantly from" if changed else "are in line with"
        head = "concept change" if changed else "no concept change"
        reason = f"{head}: no estimate; the errors {why} the reference"
        return ConceptVerdict(changed, reason, realized)
    low, high = band
    changed = realized < low - 1e-12
    where = "below" if changed else ("above" if realized > high else "within")
    head = "concept change" if changed else "no concept change (the rule holds)"
    reason = (
        f"{head}: realized accuracy {realized:.4f} {where} the estimate {estimated:.4f} "
        f"[{low:.4f}, {high:.4f}]"
    )
    return ConceptVerdict(changed, reason, realized, estimated, low, high)
