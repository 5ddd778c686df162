"""What was done about a batch after its drift report, as the report states it.

The flow decides the action only after the report is built (retrain or not, the gate's
verdict), so it hands this small value to the report's rendering; the drift layer stays pure.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ActionTaken"]

NO_RETRAIN = {
    "none": "no retrain",
    "drift-unlabelled": "no retrain",
    "drift-no-loss": "no retrain",
    "drift-cooldown": "no retrain",
}
"""Actions that made no challenger, in words."""


@dataclass(frozen=True)
class ActionTaken:
    """The action taken on a batch (a driftloop action name), why, and the challenger version.

    Examples
    --------
    >>> ActionTaken("promoted", "gain 0.12 > 0.01", "3").sentence()
    'promoted to v3 because gain 0.12 > 0.01'
    >>> ActionTaken("rejected", "gain 0.001 < 0.01", "4").sentence()
    'challenger v4 rejected because gain 0.001 < 0.01'
    >>> ActionTaken("none").sentence(drift=False)
    'no retrain because no drift was detected'
    """

    action: str
    reason: str = ""
    version: str | None = None

    def headline(self) -> str:
        """The action in a few words: "promoted to v3", "challenger v4 rejected", "no retrain"."""
        v = f"v{self.version}" if self.version else ""
        if self.action == "promoted":
            return f"promoted to {v}" if v else "promoted"
        if self.action == "rejected":
            return f"challenger {v} rejected" if v else "challenger rejected"
        if self.action == "recalled":
            return f"recalled {v}" if v else "recalled a past champion"
        if self.action == "drift-event":
            return "retrain requested (drift event sent)"
        return NO_RETRAIN.get(self.action, self.action)

    def why(self, drift: bool = True) -> str:
        """The reason, or for a batch with nothing done and no drift: "no drift was detected"."""
        if not self.reason and self.action == "none" and not drift:
            return "no drift was detected"
        return self.reason

    def sentence(self, drift: bool = True) -> str:
        """Headline and reason: "promoted to v3 because gain 0.12 > 0.01"."""
        why = self.why(drift)
        return f"{self.headline()} because {why}" if why else self.headline()
