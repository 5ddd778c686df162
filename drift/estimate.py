"""Label-free performance estimation (CBPE): a classifier's accuracy on a batch without labels.

As in NannyML's confidence-based performance estimation, the model's top-class probability
is calibrated against correctness on its own reference holdout (isotonic regression, fitted
by pool-adjacent-violators). The expected accuracy of a batch is then the mean calibrated
confidence of its rows. It holds while the model's knowledge holds (the labelling rule is
unchanged, P(y | x) the same): under a covariate shift the rows move to regions where the
model is more or less sure, and the estimate follows. Under a concept change the model is
as confident as before and wrong, and the estimate cannot see it: there the realized
accuracy falls below the band, which is how a concept change is told from a covariate shift
once labels come.

The band is where the batch's realized accuracy should fall at the batch's size if the
estimate holds: the rows' own binomial spread, ``sqrt(sum c (1 - c)) / n``, plus the
calibration's own error (the binomial error of the holdout's accuracy), at ``level``.

Regressors get no estimate: a regressor's output carries no confidence to calibrate (an
RMSE estimate needs a second model of the errors, NannyML's DLE), so their records hold None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats

from driftloop.drift.errors import DriftError
from driftloop.drift.result import TestResult

__all__ = [
    "ESTIMATE_FEATURE",
    "Calibration",
    "Estimate",
    "estimate_accuracy",
    "estimate_test",
    "fit_calibration",
]

ESTIMATE_FEATURE = "__estimated_accuracy__"
MAX_POINTS = 256
"""At most this many knots are stored for a calibration map (evenly thinned beyond)."""


@dataclass(frozen=True)
class Calibration:
    """A monotone map from top-class confidence to the chance of being right, and its holdout.

    ``confidence`` and ``accuracy`` are the knots (increasing confidence, non-decreasing
    accuracy), interpolated linearly and clipped at the ends; ``rows`` and ``reference`` are the
    holdout's size and accuracy.
    """

    confidence: tuple[float, ...]
    accuracy: tuple[float, ...]
    rows: int
    reference: float

    def calibrated(self, confidence: ArrayLike) -> np.ndarray:
        """The calibrated chance of being right for each confidence."""
        x = np.asarray(confidence, dtype="float64")
        return np.interp(x, self.confidence, self.accuracy)

    def to_dict(self) -> dict[str, Any]:
        """The map as JSON (stored with the model version)."""
        return {
            "confidence": list(self.confidence),
            "accuracy": list(self.accuracy),
            "rows": self.rows,
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        """Read a map written by `to_dict`."""
        return cls(
            tuple(float(v) for v in data["confidence"]),
            tuple(float(v) for v in data["accuracy"]),
            int(data["rows"]),
            float(data["reference"]),
        )


@dataclass(frozen=True)
class Estimate:
    """A batch's estimated accuracy and the band its realized accuracy should fall in."""

    value: float
    low: float
    high: float
    se: float
    rows: int
    reference: float
    reference_rows: int

    def holds(self, realized: float) -> bool:
        """True when a realized accuracy is not below the band (the estimate's rule held)."""
        return realized >= self.low - 1e-12


def _pav(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pool adjacent violators: the blocks (end index, mean) of the isotonic fit of `y`."""
    means: list[float] = []
    sizes: list[int] = []
    for value in y:
        means.append(float(value))
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            size = sizes[-2] + sizes[-1]
            mean = (means[-2] * sizes[-2] + means[-1] * sizes[-1]) / size
            means[-2:], sizes[-2:] = [mean], [size]
    return np.cumsum(sizes), np.asarray(means)


def fit_calibration(probabilities: ArrayLike, correct: ArrayLike) -> Calibration:
    """Fit the confidence-to-correctness map on a holdout (probabilities: one row per row).

    Examples
    --------
    >>> p = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6], [0.45, 0.55]]
    >>> cal = fit_calibration(p, [1, 1, 1, 0, 0])
    >>> cal.confidence, cal.accuracy, cal.reference
    ((0.55, 0.6, 0.7, 0.8, 0.9), (0.0, 0.0, 1.0, 1.0, 1.0), 0.6)
    >>> cal.calibrated([0.5, 0.65, 0.95]).round(3).tolist()
    [0.0, 0.5, 1.0]
    """
    proba = np.atleast_2d(np.asarray(probabilities, dtype="float64"))
    hit = np.asarray(correct, dtype="float64").ravel()
    if len(proba) != len(hit) or len(hit) == 0:
        raise DriftError(
            f"calibration needs one correctness per probability row, got {len(hit)} for "
            f"{len(proba)} rows (and at least one row)"
        )
    conf = proba.max(axis=1)
    order = np.argsort(conf, kind="stable")
    conf, hit = conf[order], hit[order]
    ends, means = _pav(hit)
    fitted = np.repeat(means, np.diff(np.concatenate([[0], ends])))
    # One knot per distinct confidence (ties averaged: the fit is constant across them).
    knots, first = np.unique(conf, return_index=True)
    values = np.maximum.accumulate(np.add.reduceat(fitted, first) / np.diff([*first, len(conf)]))
    if len(knots) > MAX_POINTS:
        keep = np.unique(np.linspace(0, len(knots) - 1, MAX_POINTS).round().astype(int))
        knots, values = knots[keep], values[keep]
    return Calibration(
        tuple(float(v) for v in knots),
        tuple(float(v) for v in values),
        len(hit),
        float(hit.mean()),
    )


def estimate_accuracy(
    calibration: Calibration, probabilities: ArrayLike, level: float = 0.95
) -> Estimate:
    """The batch's expected accuracy (mean calibrated confidence) and its band at `level`.

    Examples
    --------
    >>> cal = Calibration((0.5, 1.0), (0.5, 1.0), 400, 0.8)
    >>> e = estimate_accuracy(cal, [[0.9, 0.1]] * 50 + [[0.4, 0.6]] * 50)
    >>> round(e.value, 3), round(e.low, 3), round(e.high, 3), e.rows
    (0.75, 0.661, 0.839, 100)
    >>> e.holds(0.70), e.holds(0.60)
    (True, False)
    """
    if not 0.0 < level < 1.0:
        raise DriftError(f"the estimate's band level must be between 0 and 1, got {level}")
    proba = np.atleast_2d(np.asarray(probabilities, dtype="float64"))
    n = len(proba)
    if n == 0:
        raise DriftError("cannot estimate the accuracy of an empty batch")
    chance = calibration.calibrated(proba.max(axis=1))
    value = float(chance.mean())
    ref = calibration.reference
    var = float(np.sum(chance * (1.0 - chance))) / n**2 + ref * (1.0 - ref) / calibration.rows
    half = float(stats.norm.ppf(0.5 + level / 2.0)) * math.sqrt(var)
    low, high = max(0.0, value - half), min(1.0, value + half)
    return Estimate(value, low, high, math.sqrt(var), n, ref, calibration.rows)


def estimate_test(estimate: Estimate) -> TestResult:
    """One-sided test of an estimated drop below the reference accuracy (p small: a drop).

    The standard error is the band's: the reference above the band gives p < (1 - level) / 2.

    Examples
    --------
    >>> r = estimate_test(Estimate(0.70, 0.65, 0.75, 0.025, 500, 0.90, 2000))
    >>> r.test, r.p_value < 1e-9, round(r.details["change"], 2)
    ('estimated-accuracy', True, -0.2)
    >>> round(estimate_test(Estimate(0.89, 0.84, 0.94, 0.025, 500, 0.90, 2000)).p_value, 3)
    0.345
    """
    se = estimate.se
    diff = estimate.value - estimate.reference
    z = diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
    return TestResult(
        test="estimated-accuracy",
        statistic=float(z),
        p_value=float(stats.norm.cdf(z)),
        n_reference=estimate.reference_rows,
        n_batch=estimate.rows,
        details={
            "estimated_accuracy": estimate.value,
            "estimate_low": estimate.low,
            "estimate_high": estimate.high,
            "reference_accuracy": estimate.reference,
            "change": diff,
        },
    )
