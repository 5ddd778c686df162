"""The evaluation streams: five seeded drift scenarios with known drift points.

Every scenario draws from the demo stream's generator (`driftloop.app.stream`): bootstrap data
from the first distribution, then `batches` labelled batches of `rows` rows.

- ``covariate``: abrupt covariate shift at batch ``n // 3`` (``x1`` moves, ``c1``'s mix
  changes; the labelling rule stays).
- ``concept``: abrupt concept change at ``n // 3`` (same features, a new labelling rule).
- ``gradual``: from ``n // 4`` on, the share of rows labelled by the new rule rises batch by
  batch over ``max(2, n // 3)`` batches, then stays at one; the drift point is where it
  starts.
- ``recurring``: the rule alternates old, new, old, new in four stretches of ``n // 4``
  batches (the last takes the remainder); drift points at each switch.
- ``stable``: ``n`` batches of the first distribution, no drift point.

Examples:
    >>> s = make_scenario("recurring", seed=0, rows=50, batches=16)
    >>> s.drift_points
    [4, 8, 12]
    >>> [b.phase for b in s.batches][3:5], [b.phase for b in s.batches][7:9]
    (['stable', 'concept-B'], ['concept-B', 'concept-A'])
    >>> g = make_scenario("gradual", seed=0, rows=50, batches=16)
    >>> g.drift_points, [b.phase for b in g.batches][4:7], g.batches[9].phase
    ([4], ['gradual 1/5', 'gradual 2/5', 'gradual 3/5'], 'new-concept')
    >>> stable_stretch(make_scenario("covariate", rows=50, batches=12))
    [0, 1, 2, 3]
    >>> len(stable_stretch(make_scenario("stable", rows=50, batches=12)))
    12
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from driftloop.app.stream import TARGET, Stream, StreamBatch, draw_features, draw_labels, make_batch
from driftloop.core.errors import DriftloopError

SCENARIOS = {
    "covariate": "abrupt covariate shift",
    "concept": "abrupt concept change",
    "gradual": "gradual concept drift",
    "recurring": "recurring concept",
    "stable": "no drift",
}
MIN_BATCHES = 8
# One planned batch: (phase, covariate-shifted, share of rows under the new rule, drift point).
Plan = list[tuple[str, bool, float, bool]]


def blend_batch(rng: np.random.Generator, rows: int, shifted: bool, share: float) -> pd.DataFrame:
    """A labelled batch whose rows follow the new rule with probability `share`, else the old.

    Examples:
        >>> frame = blend_batch(np.random.default_rng(0), 100, shifted=False, share=0.5)
        >>> len(frame), sorted(frame[TARGET].unique().tolist())
        (100, [0, 1])
    """
    if share <= 0.0 or share >= 1.0:
        return make_batch(rng, rows, shifted, concept=int(share >= 1.0))
    frame = draw_features(rng, rows, shifted)
    new = rng.random(rows) < share
    frame[TARGET] = np.where(new, draw_labels(rng, frame, 1), draw_labels(rng, frame, 0))
    return frame


def _plan(name: str, n: int) -> Plan:
    if name == "stable":
        return [("stable", False, 0.0, False)] * n
    if name in ("covariate", "concept"):
        d = n // 3
        shifted = name == "covariate"
        first, rest = (
            ("covariate-shift", "shifted") if shifted else ("concept-change", "new-concept")
        )
        share = 0.0 if shifted else 1.0
        return (
            [("stable", False, 0.0, False)] * d
            + [(first, shifted, share, True)]
            + [(rest, shifted, share, False)] * (n - d - 1)
        )
    if name == "gradual":
        d, width = n // 4, max(2, n // 3)
        ramp = [
            (f"gradual {k + 1}/{width}", False, (k + 1) / (width + 1), k == 0) for k in range(width)
        ]
        return (
            [("stable", False, 0.0, False)] * d
            + ramp
            + [("new-concept", False, 1.0, False)] * (n - d - width)
        )
    period = n // 4
    plan: Plan = []
    for i in range(n):
        stretch = min(i // period, 3)
        new = stretch % 2 == 1
        phase = "concept-B" if new else ("stable" if stretch == 0 else "concept-A")
        plan.append((phase, False, float(new), i > 0 and i % period == 0 and i < 4 * period))
    return plan


def make_scenario(name: str, seed: int = 0, rows: int = 2000, batches: int = 16) -> Stream:
    """The named scenario's stream: bootstrap (2 x `rows` rows) and `batches` batches."""
    if name not in SCENARIOS:
        raise DriftloopError(f"unknown stream {name!r}; choose one of {sorted(SCENARIOS)}")
    if batches < MIN_BATCHES:
        raise DriftloopError(
            f"stream {name!r} needs at least {MIN_BATCHES} batches, got {batches}; pass more"
        )
    rng = np.random.default_rng(seed)
    boot = make_batch(rng, rows * 2, shifted=False, concept=0)
    out = [
        StreamBatch(i, f"batch_{i:03d}", blend_batch(rng, rows, s, share), phase, point)
        for i, (phase, s, share, point) in enumerate(_plan(name, batches))
    ]
    return Stream(bootstrap=boot, batches=out)


def stable_stretch(stream: Stream) -> list[int]:
    """Indices of the batches before the first drift point: the bootstrap's own distribution."""
    points = stream.drift_points
    end = points[0] if points else len(stream.batches)
    return list(range(end))
