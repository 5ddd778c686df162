"""Performance drift: is a model's accuracy on a labelled batch below its reference accuracy?"""

from __future__ import annotations

import math

from scipy import stats

from drift.errors import DriftError
from drift.result import TestResult

__all__ = ["PERFORMANCE_FEATURE", "accuracy_drop_test"]

PERFORMANCE_FEATURE = "__accuracy__"


def accuracy_drop_test(
    reference_accuracy: float, reference_rows: int, batch_accuracy: float, batch_rows: int
) -> TestResult:
    """One-sided two-proportion z-test that batch accuracy is below the reference accuracy.

    Examples
    --------
    >>> r = accuracy_drop_test(0.90, 1000, 0.80, 1000)
    >>> r.test, r.p_value < 1e-9
    ('accuracy-drop', True)
    >>> round(accuracy_drop_test(0.90, 1000, 0.91, 1000).p_value, 3)
    0.777
    """
    for name, value in (
        ("reference_accuracy", reference_accuracy),
        ("batch_accuracy", batch_accuracy),
    ):
        if not 0.0 <= value <= 1.0:
            raise DriftError(f"{name} must be a share between 0 and 1, got {value}")
    if reference_rows < 1 or batch_rows < 1:
        raise DriftError(
            f"accuracy needs rows on both sides (reference {reference_rows}, batch {batch_rows})"
        )
    pooled = (reference_accuracy * reference_rows + batch_accuracy * batch_rows) / (
        reference_rows + batch_rows
    )
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / reference_rows + 1.0 / batch_rows))
    diff = batch_accuracy - reference_accuracy
    if se == 0.0:
        z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
    else:
        z = diff / se
    return TestResult(
        test="accuracy-drop",
        statistic=float(z),
        p_value=float(stats.norm.cdf(z)),
        n_reference=int(reference_rows),
        n_batch=int(batch_rows),
        details={
            "reference_accuracy": float(reference_accuracy),
            "batch_accuracy": float(batch_accuracy),
            "drop": float(-diff),
        },
    )
