"""The batch schema as a pandera DataFrameSchema, built from the config's features and [ingest]."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from driftloop.core.config import Config
from driftloop.core.errors import ConfigError


@dataclass(frozen=True)
class Rules:
    """What a batch must hold: feature columns by kind, the target, and the optional limits."""

    numeric: list[str]
    categorical: list[str]
    target: str
    extra_columns: str = "ignore"
    min_rows: int = 1
    not_null: list[str] = field(default_factory=list)
    categories: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, list[float]] = field(default_factory=dict)
    id_column: str = ""  # required in every row when set; kept (as text), never a feature

    @classmethod
    def from_config(cls, cfg: Config) -> Rules:
        """The rules the config states."""
        ing = cfg.ingest
        return cls(
            list(cfg.features.numeric),
            list(cfg.features.categorical),
            cfg.model.target,
            ing.extra_columns,
            ing.min_rows,
            list(ing.not_null),
            dict(ing.categories),
            dict(ing.ranges),
            cfg.model.id_column,
        )

    @property
    def features(self) -> list[str]:
        """Every feature column, numeric first."""
        return [*self.numeric, *self.categorical]


def _finite(values: pd.Series) -> pd.Series:
    return ~np.isinf(pd.to_numeric(values, errors="coerce").astype("float64"))


def _known(rules: Rules, option: str, names: list[str], allowed: list[str]) -> None:
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise ConfigError(
            f"[ingest] {option} names column(s) {unknown} that are not {allowed}; "
            "fix the names in driftloop.toml"
        )


def build_schema(rules: Rules) -> pa.DataFrameSchema:
    """A pandera schema: float numeric columns, finite, in range; categories; nullability."""
    _known(rules, "not_null", rules.not_null, [*rules.features, rules.target])
    _known(rules, "categories", list(rules.categories), rules.categorical)
    _known(rules, "ranges", list(rules.ranges), rules.numeric)
    columns: dict[str, pa.Column] = {}
    for col in rules.numeric:
        checks = [pa.Check(_finite, name="finite")]
        if col in rules.ranges:
            lo, hi = rules.ranges[col]
            checks.append(pa.Check(lambda s, lo=lo, hi=hi: s.between(lo, hi), name="range"))
        columns[col] = pa.Column(
            "float64", checks=checks, coerce=True, nullable=col not in rules.not_null
        )
    for col in rules.categorical:
        checks = []
        if col in rules.categories:
            allowed = [str(v) for v in rules.categories[col]]
            checks.append(pa.Check(lambda s, a=allowed: s.astype("str").isin(a), name="category"))
        columns[col] = pa.Column(checks=checks, nullable=col not in rules.not_null)
    columns[rules.target] = pa.Column(nullable=False, required=False)
    if rules.id_column:
        columns[rules.id_column] = pa.Column(nullable=False)
    return pa.DataFrameSchema(columns, strict=rules.extra_columns == "reject")
