"""Stream evaluation figures: prequential accuracy, retrains, detection delay, false alarms.

A policy's run is one accuracy per batch (the model in service scores the batch before any
retrain on it: prequential, test-then-train), whether it trained a model on that batch, and
whether it put a past model back in service instead (driftloop's recall of a past champion:
a reaction to drift, counted for detection delay and false alarms, but no training).

Examples:
    >>> run = PolicyRun("p", [0.9, 0.9, 0.5, 0.8, 0.9], [False, False, False, True, False])
    >>> s = summarise(run, drift_points=[2], stable=[0, 1])
    >>> round(s.mean, 2), s.worst, s.retrains, s.delays, s.false_alarms
    (0.8, 0.5, 1, [1], 0)
    >>> [round(a, 3) for a in s.after_drift]
    [0.85]
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PolicyRun:
    """What one policy did on one stream."""

    policy: str
    accuracy: list[float]
    retrained: list[bool]
    train_seconds: float = 0.0
    wall_seconds: float = 0.0
    actions: list[str] = field(default_factory=list)
    recalled: list[bool] = field(default_factory=list)

    def reacted(self) -> list[bool]:
        """Per batch: a model trained on it, or a past one put back in service."""
        back = self.recalled or [False] * len(self.retrained)
        return [t or r for t, r in zip(self.retrained, back, strict=True)]


@dataclass(frozen=True)
class Summary:
    """One row of the results table."""

    policy: str
    mean: float
    worst: float
    retrains: int
    train_seconds: float
    wall_seconds: float
    delays: list[int | None]
    false_alarms: int
    stable_batches: int
    after_drift: list[float]
    stable_mean: float | None = None
    recalls: int = 0


def detection_delays(retrained: list[bool], drift_points: list[int]) -> list[int | None]:
    """Per drift point: batches to the first reaction at or after it (None: none before the next).

    Examples:
        >>> detection_delays([False, True, False, False, True], [1, 3])
        [0, 1]
        >>> detection_delays([False, False, False], [1])
        [None]
    """
    ends = [*drift_points[1:], len(retrained)][: len(drift_points)]
    out: list[int | None] = []
    for start, end in zip(drift_points, ends, strict=True):
        hits = [i for i in range(start, end) if retrained[i]]
        out.append(hits[0] - start if hits else None)
    return out


def after_drift_means(accuracy: list[float], drift_points: list[int]) -> list[float]:
    """Per drift point: mean accuracy of the batches after it, up to the next drift point.

    The drift batch itself is left out (no policy can have reacted to it yet), unless it is
    the only batch of its stretch.
    """
    ends = [*drift_points[1:], len(accuracy)][: len(drift_points)]
    out = []
    for start, end in zip(drift_points, ends, strict=True):
        part = accuracy[start + 1 : end] or accuracy[start:end]
        out.append(sum(part) / len(part))
    return out


def summarise(run: PolicyRun, drift_points: list[int], stable: list[int]) -> Summary:
    """The table row of a policy's run on a stream with known drift points."""
    reacted = run.reacted()
    return Summary(
        policy=run.policy,
        mean=sum(run.accuracy) / len(run.accuracy),
        worst=min(run.accuracy),
        retrains=sum(run.retrained),
        train_seconds=run.train_seconds,
        wall_seconds=run.wall_seconds,
        delays=detection_delays(reacted, drift_points),
        false_alarms=sum(reacted[i] for i in stable),
        stable_batches=len(stable),
        after_drift=after_drift_means(run.accuracy, drift_points),
        stable_mean=sum(run.accuracy[i] for i in stable) / len(stable) if stable else None,
        recalls=sum(run.recalled),
    )


def beats_never(loop: Summary, never: Summary, margin: float) -> bool:
    """After each drift point: driftloop at least `margin` above never-retrain where the drift
    hurt never-retrain, and within 1 point of it where it did not.

    A drift that brings back the bootstrap's own concept (the recurring stream's return to
    the old rule) leaves never-retrain serving the very model made for it, at its pre-drift
    accuracy (within `margin`): no policy can beat it there by a margin, so matching it is
    asked instead.

    Examples:
        >>> never = Summary("n", 0.7, 0.3, 0, 0.0, 0.0, [None, None], 0, 3, [0.3, 0.93], 0.94)
        >>> row = Summary("d", 0.9, 0.3, 2, 1.0, 1.0, [0, 0], 0, 3, [0.92, 0.925], 0.94)
        >>> from dataclasses import replace
        >>> hurt_both = replace(never, after_drift=[0.3, 0.9])
        >>> beats_never(row, never, 0.02), beats_never(row, hurt_both, 0.02)
        (True, True)
        >>> beats_never(row, replace(never, after_drift=[0.91, 0.93]), 0.02)
        False
    """
    pre = never.stable_mean
    for ours, theirs in zip(loop.after_drift, never.after_drift, strict=True):
        unhurt = pre is not None and theirs >= pre - margin
        if ours < (theirs - 0.01 if unhurt else theirs + margin):
            return False
    return True


def targets(
    loop: Summary, every: Summary, never: Summary, alpha: float, margin: float
) -> dict[str, bool]:
    """The must-show checks of driftloop's row against fine-tune-every-batch and never-retrain.

    Examples:
        >>> a = Summary("d", 0.90, 0.8, 2, 1.0, 1.0, [0], 0, 4, [0.90])
        >>> b = Summary("f", 0.905, 0.8, 10, 5.0, 5.0, [0], 4, 4, [0.91])
        >>> c = Summary("n", 0.70, 0.5, 0, 0.0, 0.0, [None], 0, 4, [0.60])
        >>> targets(a, b, c, alpha=0.05, margin=0.02)
        {'within 1 pt of fine-tune-every': True, 'retrains <= 30% of it': True, \
'above never-retrain after each drift': True, 'false alarms <= alpha': True}
    """
    return {
        "within 1 pt of fine-tune-every": loop.mean >= every.mean - 0.01,
        "retrains <= 30% of it": loop.retrains <= 0.3 * every.retrains,
        "above never-retrain after each drift": beats_never(loop, never, margin),
        "false alarms <= alpha": loop.false_alarms <= alpha * loop.stable_batches,
    }
