"""`driftloop.compare(reference, batch)`: the drift check on two data frames, for notebooks.

No config, no model, no MLflow: the columns are split as `driftloop init` splits them
(numbers numeric, everything else categorical), a reference profile is built from
``reference`` and ``batch`` is tested against it with the same tests and correction as the
pipeline. The result shows itself as the HTML report in Jupyter.

Examples
--------
>>> import numpy as np, pandas as pd
>>> import driftloop
>>> rng = np.random.default_rng(2)
>>> ref = pd.DataFrame({"x": rng.normal(size=1000), "c": rng.choice(["a", "b"], 1000)})
>>> new = pd.DataFrame({"x": rng.normal(1.0, size=500), "c": rng.choice(["a", "b"], 500)})
>>> result = driftloop.compare(ref, new)
>>> result.drift, result.drifted_features
(True, ['x'])
>>> result.verdict
'Drift detected in 1 of 2 features: x'
>>> result.table[["feature", "kind", "drifted"]].values.tolist()
[['x', 'numeric', True], ['c', 'categorical', False]]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from driftloop.app.scaffold import infer_schema
from driftloop.core.errors import SchemaError
from driftloop.drift.detect import DriftOptions, detect_drift
from driftloop.drift.html import report_html
from driftloop.drift.outcome import DriftReport
from driftloop.drift.profile import build_profile
from driftloop.drift.signals import column_tests, verdict

__all__ = ["Comparison", "compare"]

_TABLE_COLUMNS = ["feature", "kind", "test", "statistic", "p_value", "effect_size", "drifted"]


@dataclass(frozen=True)
class Comparison:
    """The drift report of one batch against a reference, with notebook-friendly views."""

    report: DriftReport
    title: str = "Drift report"

    @property
    def drift(self) -> bool:
        """True when at least one test drifted."""
        return self.report.drift

    @property
    def drifted_features(self) -> list[str]:
        """The drifted columns of the batch, in column order."""
        return [item.feature for item in column_tests(self.report) if item.drifted]

    @property
    def verdict(self) -> str:
        """The verdict in one line."""
        return verdict(self.report, code="")

    @property
    def table(self) -> pd.DataFrame:
        """One row per test: feature, kind, test, statistic, p_value, effect_size, drifted."""
        rows = [[getattr(item, c) for c in _TABLE_COLUMNS] for item in self.report.features]
        return pd.DataFrame(rows, columns=_TABLE_COLUMNS)

    def save_html(self, path: str | os.PathLike[str]) -> Path:
        """Write the self-contained HTML report to ``path`` and return the path written."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self._repr_html_(), encoding="utf-8")
        return target

    def _repr_html_(self) -> str:
        """The HTML report, which Jupyter shows for the object."""
        return report_html(self.report, self.title)


def _columns(
    reference: pd.DataFrame,
    numeric: Sequence[str] | None,
    categorical: Sequence[str] | None,
    ignore: Sequence[str],
) -> tuple[list[str], list[str]]:
    """The numeric and categorical columns: the ones given, else inferred from dtypes."""
    inferred = infer_schema(reference.drop(columns=[c for c in ignore if c in reference]), "")
    return (
        list(inferred[0] if numeric is None else numeric),
        list(inferred[1] if categorical is None else categorical),
    )


def compare(
    reference: pd.DataFrame,
    batch: pd.DataFrame,
    *,
    numeric: Sequence[str] | None = None,
    categorical: Sequence[str] | None = None,
    ignore: Sequence[str] = (),
    options: DriftOptions | None = None,
    title: str = "Drift report",
) -> Comparison:
    """Test ``batch`` for drift against ``reference``; columns inferred unless given."""
    num, cat = _columns(reference, numeric, categorical, ignore)
    absent = [c for c in [*num, *cat] if c not in batch.columns]
    if absent:
        raise SchemaError(
            f"the batch lacks column(s) {absent} of the reference; pass ignore={absent} to "
            "leave them out, or add them to the batch"
        )
    profile = build_profile(reference, num, cat)
    return Comparison(detect_drift(profile, batch, options), title)
