"""Whether a batch's drift starts a challenger: labels, what drifted, and the cool-down.

A drifted batch gets a challenger only when it has labels to fine-tune on, when (with
`[drift] retrain_on = "performance"`) the champion's own errors on it changed, and when the
champion was not challenged (a challenger made, or a past champion recalled) in the
`[drift] retrain_cooldown` batches processed just before it. The cool-down lets a drift
settle: right after a retrain the next batch's drift is often the same change still arriving
(a gradual drift, or noise around a freshly promoted model), and a second challenger a batch
later costs a fine-tune for little. Every decision not to retrain is recorded with its action
and reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from driftloop.core.records import CHALLENGED, Action
from driftloop.drift import ESTIMATE_FEATURE, DriftReport

__all__ = ["Trigger", "at_risk_trigger", "retrain_trigger"]


@dataclass(frozen=True)
class Trigger:
    """Whether to make a challenger; if not, the action and reason to record for the batch."""

    retrain: bool
    action: Action = Action.NONE
    reason: str = ""


def retrain_trigger(
    report: DriftReport,
    labelled: bool,
    retrain_on: str,
    cooldown: int,
    recent: Sequence[tuple[str, Action]],
) -> Trigger:
    """Decide whether a batch's drift report starts a challenger, and why not when it does not.

    `recent` holds (batch, action) of the batches processed before this one, newest first.
    """
    if not report.drift:
        return Trigger(False)
    if not labelled:
        return Trigger(
            False,
            Action.DRIFT_UNLABELLED,
            "drift found, but the batch has no labels to fine-tune on",
        )
    if retrain_on == "performance" and not report.performance_drift:
        return Trigger(
            False,
            Action.DRIFT_NO_LOSS,
            f"{', '.join(report.drifted_features)} drifted, but the champion's errors on the "
            'batch did not change significantly: no retrain ([drift] retrain_on = "performance")',
        )
    for ago, (batch, action) in enumerate(recent[:cooldown], start=1):
        if action in CHALLENGED:
            return Trigger(
                False,
                Action.DRIFT_COOLDOWN,
                f"drift found, but {batch} ({action}) {ago} batch(es) ago challenged the champion: "
                f"no retrain within [drift] retrain_cooldown = {cooldown} batch(es) of that (0 "
                "turns it off)",
            )
    return Trigger(True)


def at_risk_trigger(report: DriftReport, labelled: bool, mode: str) -> Trigger | None:
    """With `[labels] trigger = "estimate"`: an unlabelled batch whose estimated accuracy
    dropped beyond its band marks the champion at risk (None: nothing to mark)."""
    if mode != "estimate" or labelled:
        return None
    found = [f for f in report.features if f.feature == ESTIMATE_FEATURE and f.drifted]
    if not found:
        return None
    d = found[0].details
    return Trigger(
        False,
        Action.AT_RISK,
        f"estimated accuracy {d['estimated_accuracy']:.4f} [{d['estimate_low']:.4f}, "
        f"{d['estimate_high']:.4f}] dropped below the champion's reference "
        f"{d['reference_accuracy']:.4f}; the batch has no labels to fine-tune on: champion "
        'marked at risk ([labels] trigger = "estimate")',
    )
