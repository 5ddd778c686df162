"""The promotion gate: a challenger replaces the champion only if it scores better."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateDecision:
    """Whether to promote, why, and the scores both models got on the same holdout rows."""

    promote: bool
    reason: str
    champion_accuracy: float
    challenger_accuracy: float
    holdout_rows: int


def judge(
    champion_accuracy: float, challenger_accuracy: float, holdout_rows: int, min_improvement: float
) -> GateDecision:
    """Promote iff the challenger beats the champion by more than min_improvement.

    Examples:
        >>> judge(0.80, 0.86, 600, 0.01).promote
        True
        >>> judge(0.80, 0.805, 600, 0.01).reason
        'challenger 0.8050 does not beat champion 0.8000 by more than 0.0100 on 600 holdout rows'
    """
    gain = challenger_accuracy - champion_accuracy
    promote = gain > min_improvement + 1e-12  # accuracies are ratios: ignore float noise
    verb = "beats" if promote else "does not beat"
    reason = (
        f"challenger {challenger_accuracy:.4f} {verb} champion {champion_accuracy:.4f} "
        f"by more than {min_improvement:.4f} on {holdout_rows} holdout rows"
    )
    return GateDecision(promote, reason, champion_accuracy, challenger_accuracy, holdout_rows)
