"""The outcome of one two-sample statistical test."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["TestResult"]


@dataclass(frozen=True)
class TestResult:
    """Statistic, p-value and sample sizes of one reference-vs-batch test."""

    __test__ = False  # not a pytest test class, despite the name

    test: str
    statistic: float
    p_value: float
    n_reference: int
    n_batch: int
    details: dict[str, Any] = field(default_factory=dict)
