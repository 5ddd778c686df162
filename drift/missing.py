"""The missing-value rate as its own drift signal: a two-sided two-proportion z-test.

When neither side has a missing value the test has nothing to vary (its smallest attainable
p-value is 1), so ``missing_rate_test`` returns ``None`` and the test does not join the
correction: leaving out tests that cannot reach significance keeps the family-wise error
rate (Tarone, 1990) and spends no power on them.
"""

from __future__ import annotations

import math

from scipy import stats

from driftloop.drift.errors import DriftError
from driftloop.drift.result import TestResult

__all__ = ["MISSING_PREFIX", "missing_rate_test"]

MISSING_PREFIX = "__missing_rate__:"
"""Report name of a feature's missing-rate test: ``"__missing_rate__:" + feature``."""


def missing_rate_test(
    reference_missing: int, reference_total: int, batch_missing: int, batch_total: int
) -> TestResult | None:
    """Pooled two-proportion z-test of equal missing rates, or None when both sides have none.

    Examples
    --------
    >>> r = missing_rate_test(10, 1000, 30, 1000)
    >>> r.test, round(r.statistic, 3), round(r.p_value, 5), round(r.details["effect_size"], 6)
    ('missing-rate', 3.194, 0.0014, 0.02)
    >>> missing_rate_test(0, 1000, 0, 500) is None
    True
    """
    if min(reference_total, batch_total) < 1:
        raise DriftError("a missing-rate test needs rows on both sides")
    if not (0 <= reference_missing <= reference_total and 0 <= batch_missing <= batch_total):
        raise DriftError("missing counts must lie between 0 and the number of rows")
    if reference_missing + batch_missing == 0:
        return None
    p_ref, p_bat = reference_missing / reference_total, batch_missing / batch_total
    pooled = (reference_missing + batch_missing) / (reference_total + batch_total)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / reference_total + 1.0 / batch_total))
    z = (p_bat - p_ref) / se if se > 0 else 0.0
    return TestResult(
        "missing-rate",
        float(z),
        float(2.0 * stats.norm.sf(abs(z))),
        int(reference_total),
        int(batch_total),
        {
            "reference_missing_rate": p_ref,
            "batch_missing_rate": p_bat,
            "effect_size": abs(p_bat - p_ref),
        },
    )
