"""Fast KS p-values made exact wherever they could change a drift decision."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace

from driftloop.drift.ks import FAST_METHOD, FAST_REL_ERROR, ks_p_value
from driftloop.drift.result import TestResult


@dataclass(frozen=True)
class Tested:
    """One test of a batch before its decision: its result, and what the decision weighs."""

    name: str
    kind: str
    result: TestResult
    missing: int = 0
    effect: float | None = None
    floor: float = 0.0


TAIL = 1e-10
"""Below this the fast KS p-value's error is not bounded; it only says the p-value is < TAIL."""


def settle_fast_p_values(
    tested: list[Tested],
    decide: Callable[[Mapping[str, float], float], dict[str, bool]],
    alpha: float,
) -> None:
    """Replace fast KS p-values by scipy's wherever they could change a decision.

    A fast p-value lies within ``FAST_REL_ERROR`` of scipy's (``drift.ks``). Every correction
    is monotone (a smaller p-value never removes a rejection), so when the decisions made
    with every fast p-value pushed to the low end of twice that margin equal those made with
    every one pushed to the high end, they equal the decisions made with scipy's p-values.
    Otherwise the fast p-values whose decision is in doubt (or, if only exact tests are in
    doubt, every fast p-value near a threshold) are recomputed, and the check repeats.
    """
    margin = 2.0 * FAST_REL_ERROR
    while True:
        fast = {
            i for i, t in enumerate(tested) if t.result.details.get("p_value_method") == FAST_METHOD
        }
        if not fast:
            return
        low, high = {}, {}
        for i, t in enumerate(tested):
            name, p = t.name, t.result.p_value
            low[name] = max(0.0, p * (1.0 - margin)) if i in fast else p
            high[name] = min(1.0, max(p * (1.0 + margin), TAIL)) if i in fast else p
        low_decisions, high_decisions = decide(low, alpha), decide(high, alpha)
        doubtful = {name for name in low if low_decisions[name] != high_decisions[name]}
        if not doubtful:
            return
        redo = {i for i in fast if tested[i].name in doubtful}
        if not redo:  # only exact tests in doubt: settle every fast p-value near a threshold
            redo = {i for i in fast if low[tested[i].name] <= 2.0 * alpha}
        if not redo:  # pragma: no cover - thresholds never exceed alpha
            return
        for i in redo:
            result = tested[i].result
            exact = ks_p_value(result.statistic, result.n_reference, result.n_batch)
            details = {**result.details, "p_value_method": "scipy-kstwo"}
            result = TestResult(
                result.test,
                result.statistic,
                exact,
                result.n_reference,
                result.n_batch,
                details,
            )
            tested[i] = replace(tested[i], result=result)
