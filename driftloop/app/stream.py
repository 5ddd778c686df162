"""A seeded, labelled tabular stream with known drift points, for the demo, tests and benchmarks.

Phases: a stable stretch, an abrupt covariate shift (``x1`` moves and the mix of ``c1``
changes; the labelling rule stays), a stable stretch on the shifted data, an abrupt concept
change (same feature distribution, a new labelling rule), and a final stable stretch.

Examples:
    >>> stream = make_stream(seed=0, rows=200)
    >>> [b.phase for b in stream.batches][:6]
    ['stable', 'stable', 'stable', 'stable', 'covariate-shift', 'shifted']
    >>> stream.drift_points
    [4, 9]
    >>> sorted(stream.bootstrap.columns)
    ['c1', 'c2', 'label', 'x1', 'x2', 'x3']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NUMERIC = ["x1", "x2", "x3"]
CATEGORICAL = ["c1", "c2"]
TARGET = "label"
_C1 = np.array(["a", "b", "c", "d"])
_C2 = np.array(["low", "mid", "high"])
_C1_EFFECT = {"a": 0.6, "b": -0.6, "c": 0.0, "d": 0.3}
_C2_EFFECT = {"low": -0.3, "mid": 0.0, "high": 0.3}


@dataclass(frozen=True)
class StreamBatch:
    """One batch of the stream and the truth about it."""

    index: int
    name: str
    frame: pd.DataFrame
    phase: str
    drift_point: bool


@dataclass(frozen=True)
class Stream:
    """Bootstrap data (the first distribution) and the batches that follow it."""

    bootstrap: pd.DataFrame
    batches: list[StreamBatch]

    @property
    def drift_points(self) -> list[int]:
        """Indices of the batches where the distribution or the concept changes."""
        return [b.index for b in self.batches if b.drift_point]


def draw_features(rng: np.random.Generator, rows: int, shifted: bool) -> pd.DataFrame:
    """Feature rows from the first distribution, or the covariate-shifted one."""
    c1_p = [0.1, 0.2, 0.2, 0.5] if shifted else [0.4, 0.3, 0.2, 0.1]
    return pd.DataFrame(
        {
            "x1": rng.normal(2.6 if shifted else 0.0, 1.0, rows),
            "x2": rng.normal(0.0, 1.0, rows),
            "x3": rng.uniform(-2.0, 2.0, rows),
            "c1": rng.choice(_C1, size=rows, p=c1_p),
            "c2": rng.choice(_C2, size=rows, p=[0.3, 0.4, 0.3]),
        }
    )


def draw_labels(rng: np.random.Generator, frame: pd.DataFrame, concept: int) -> np.ndarray:
    """Labels of the rows under labelling rule `concept` (0 or 1), with a little noise."""
    c1 = frame["c1"].map(_C1_EFFECT).to_numpy(dtype="float64")
    c2 = frame["c2"].map(_C2_EFFECT).to_numpy(dtype="float64")
    x1, x2, x3 = (frame[c].to_numpy() for c in NUMERIC)
    if concept == 0:
        score = 1.5 * np.sin(1.5 * x1) + 0.8 * x2 + c1 + c2
    else:
        score = -0.9 * x2 + 0.9 * x3 - c1 - 0.5 * np.sin(1.5 * x1)
    noise = rng.normal(0.0, 0.25, len(frame))
    return (score + noise > 0).astype("int64")


def make_batch(rng: np.random.Generator, rows: int, shifted: bool, concept: int) -> pd.DataFrame:
    """One labelled batch from the given feature distribution and labelling rule."""
    frame = draw_features(rng, rows, shifted)
    frame[TARGET] = draw_labels(rng, frame, concept)
    return frame


def make_stream(
    seed: int = 0,
    rows: int = 2000,
    stable: int = 4,
    shifted: int = 5,
    after_concept: int = 7,
    bootstrap_rows: int | None = None,
) -> Stream:
    """The demo stream: `stable` + `shifted` + `after_concept` batches of `rows` rows each."""
    rng = np.random.default_rng(seed)
    boot = make_batch(rng, bootstrap_rows or rows * 2, shifted=False, concept=0)
    plan: list[tuple[str, bool, int, bool]] = []
    plan += [("stable", False, 0, False)] * stable
    plan += [("covariate-shift", True, 0, True)] + [("shifted", True, 0, False)] * (shifted - 1)
    plan += [("concept-change", True, 1, True)] + [("new-concept", True, 1, False)] * (
        after_concept - 1
    )
    batches = [
        StreamBatch(i, f"batch_{i:03d}", make_batch(rng, rows, s, c), phase, point)
        for i, (phase, s, c, point) in enumerate(plan)
    ]
    return Stream(bootstrap=boot, batches=batches)
