"""Performance drift: has a model's accuracy on a labelled batch moved away from its reference?"""

from __future__ import annotations

import math

from scipy import stats

from driftloop.drift.errors import DriftError
from driftloop.drift.result import TestResult

__all__ = ["PERFORMANCE_FEATURE", "accuracy_change_test"]

PERFORMANCE_FEATURE = "__accuracy__"


def accuracy_change_test(
    reference_accuracy: float, reference_rows: int, batch_accuracy: float, batch_rows: int
) -> TestResult:
    """Two-sided two-proportion z-test that batch accuracy differs from the reference accuracy.

    A drop means the model got worse. A significant rise means the labelled data moved away
    from the reference as well (a drift still settling, a shift to an easier region): the
    model no longer fits the data it now sees, and one fitted to that data may do better.
    ``details["change"]`` is batch minus reference accuracy.

    Examples
    --------
    >>> r = accuracy_change_test(0.90, 1000, 0.80, 1000)
    >>> r.test, r.p_value < 1e-9, round(r.details["change"], 2)
    ('accuracy-change', True, -0.1)
    >>> round(accuracy_change_test(0.90, 1000, 0.91, 1000).p_value, 3)
    0.446
    >>> accuracy_change_test(0.70, 600, 0.78, 2000).p_value < 1e-4
    True
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
        test="accuracy-change",
        statistic=float(z),
        p_value=float(min(1.0, 2.0 * stats.norm.sf(abs(z)))),
        n_reference=int(reference_rows),
        n_batch=int(batch_rows),
        details={
            "reference_accuracy": float(reference_accuracy),
            "batch_accuracy": float(batch_accuracy),
            "change": float(diff),
        },
    )
