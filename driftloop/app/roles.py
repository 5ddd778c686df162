"""Decide every column's role in a sample file: feature (numeric or categorical) or excluded.

`driftloop init` reads real exports: a saved index, an `id`, a `timestamp`, the previous
model's `y_pred` columns. Each is kept out of the features with its reason; a column whose
role is unclear is excluded and marked for review, never silently learned from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

import pandas as pd

from driftloop.core.errors import ConfigError

MAX_CLASSES = 20
TASK_RULE = (
    f"classification when the target is text, true/false, or whole numbers with at most "
    f"{MAX_CLASSES} distinct values; otherwise regression"
)
MIN_ROWS_PER_LEVEL = 5  # a categorical with fewer rows per level on average is not learnable
LEAK_PURITY = 0.99  # a feature whose bins predict the target this well nearly determines it
LEAK_CORRELATION = 0.99  # ... or whose rank correlation with a numeric target is this high
LEAK_BINS = 10
DATE_SHARE = 0.95  # share of text values that must parse as dates for a time column
DATE_PROBE = 200  # values tried when deciding whether a text column holds dates

_INDEX_NAME = re.compile(r"^(unnamed_\d+|index|level_\d+)?$")
_ID_NAMES = {"id", "uuid", "guid", "row", "rowid", "row_id", "record_id", "key"}
_LEAK_TOKENS = {
    "pred",
    "preds",
    "prediction",
    "predictions",
    "predicted",
    "proba",
    "probas",
    "probability",
    "probabilities",
    "yhat",
}
_LEAK_NAMES = {"score", "scores", "y_score", "y_hat", "output", "model_output"}


class Role(Enum):
    """What a column is to the model."""

    NUMERIC = "numeric"
    CATEGORICAL = "categorical"
    EXCLUDED = "excluded"
    REVIEW = "review"  # excluded because the guess is unsure: a person should decide


@dataclass(frozen=True)
class ColumnRole:
    """One column's role and the reason it got it."""

    column: str
    role: Role
    reason: str
    is_id: bool = False
    is_time: bool = False


@dataclass(frozen=True)
class Overrides:
    """What the user decided on the command line; each wins over the guess."""

    exclude: frozenset[str] = frozenset()
    include: frozenset[str] = frozenset()
    task: str = ""
    id_column: str = ""
    time_column: str = ""


@dataclass(frozen=True)
class RolePlan:
    """Every column's role, the task and the columns kept out as identifier and time."""

    target: str
    task: str
    task_reason: str
    roles: tuple[ColumnRole, ...]
    id_column: str = ""
    time_column: str = ""
    rows: int = 0

    def columns(self, role: Role) -> list[str]:
        """The columns of one role, in file order."""
        return [r.column for r in self.roles if r.role is role]


def normalised(name: str) -> str:
    """Letters and digits, lower-cased, joined by single underscores: "Y-Pred" -> "y_pred"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


def leaky_name(name: str) -> bool:
    """True for names of a model's outputs: y_pred, y_pred_proba, prediction, score, proba_1."""
    norm = normalised(name)
    return norm in _LEAK_NAMES or bool(set(norm.split("_")) & _LEAK_TOKENS)


def id_name(name: str) -> bool:
    """True for names of identifiers: id, ID, customer_id, row-id, uuid."""
    norm = normalised(name)
    return norm in _ID_NAMES or norm.endswith("_id") or norm.startswith("id_")


def infer_task(values: pd.Series) -> tuple[str, str]:
    """The task the target calls for, and why (the rule is TASK_RULE)."""
    known = values.dropna()
    distinct = int(known.nunique())
    if not pd.api.types.is_numeric_dtype(known.dtype) or pd.api.types.is_bool_dtype(known.dtype):
        return "classification", f"the target holds text or true/false ({distinct} classes)"
    whole = bool((known.astype("float64") % 1 == 0).all())
    if whole and distinct <= MAX_CLASSES:
        return "classification", f"the target holds {distinct} distinct whole numbers"
    kind = "whole numbers" if whole else "numbers with fractions"
    return "regression", f"the target holds {distinct} distinct {kind}"


def looks_like_dates(values: pd.Series) -> bool:
    """True when nearly every probed text value parses as a date or time."""
    probe = values.dropna().astype("str").head(DATE_PROBE)
    if probe.empty or not probe.str.contains(r"\d.*[-/:T].*\d|\d{8}", regex=True).all():
        return False
    parsed = pd.to_datetime(probe, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= DATE_SHARE)


def guess_role(values: pd.Series, name: str, max_categories: int) -> ColumnRole:
    """The role one column's name and values suggest, without looking at the target."""
    n, known = len(values), values.dropna()
    distinct = int(known.nunique())
    if distinct <= 1:
        return ColumnRole(name, Role.EXCLUDED, f"constant ({distinct} distinct value)")
    if _INDEX_NAME.match(normalised(name)):
        return ColumnRole(
            name, Role.EXCLUDED, "a saved row index (as pandas writes 'Unnamed: 0')", is_id=True
        )
    if leaky_name(name):
        return ColumnRole(name, Role.EXCLUDED, "likely leakage: named like a model's output")
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return ColumnRole(name, Role.EXCLUDED, "date/time", is_time=True)
    if pd.api.types.is_bool_dtype(values.dtype):
        return ColumnRole(name, Role.CATEGORICAL, "true/false")
    if pd.api.types.is_numeric_dtype(values.dtype):
        return _numeric_role(known, name, n, distinct)
    return _text_role(known, name, n, distinct, max_categories)


def _numeric_role(known: pd.Series, name: str, n: int, distinct: int) -> ColumnRole:
    unique = distinct == n
    whole = bool((known.astype("float64") % 1 == 0).all())
    if whole and unique and (known.is_monotonic_increasing or id_name(name)):
        return ColumnRole(
            name, Role.EXCLUDED, "row identifier: a distinct whole number per row", is_id=True
        )
    if id_name(name):
        how = "distinct per row" if unique else "repeating"
        return ColumnRole(name, Role.REVIEW, f"named like an identifier, values {how}")
    return ColumnRole(name, Role.NUMERIC, "numbers")


def _text_role(
    known: pd.Series, name: str, n: int, distinct: int, max_categories: int
) -> ColumnRole:
    if looks_like_dates(known):
        return ColumnRole(name, Role.EXCLUDED, "date/time", is_time=True)
    numbers = pd.to_numeric(known, errors="coerce")
    if numbers.notna().mean() >= 0.9:
        bad = int(numbers.isna().sum())
        return ColumnRole(name, Role.REVIEW, f"numbers, but {bad} value(s) are text")
    if distinct == n:
        return ColumnRole(
            name, Role.EXCLUDED, "row identifier: a distinct text value per row", is_id=True
        )
    if distinct > max_categories or distinct * MIN_ROWS_PER_LEVEL > n:
        return ColumnRole(
            name,
            Role.EXCLUDED,
            f"too many levels to learn from ({distinct} in {n} rows)",
        )
    if id_name(name):
        return ColumnRole(name, Role.REVIEW, f"named like an identifier, {distinct} values")
    return ColumnRole(name, Role.CATEGORICAL, f"text, {distinct} levels")


def determines_target(values: pd.Series, target: pd.Series, task: str) -> str:
    """Why a feature nearly determines the target (likely leakage), or "" when it does not."""
    rows = values.notna() & target.notna()
    x, y = values[rows], target[rows]
    if len(x) < 2 * LEAK_BINS:
        return ""
    numeric = pd.api.types.is_numeric_dtype(x.dtype) and not pd.api.types.is_bool_dtype(x.dtype)
    if task == "regression":
        if not numeric:
            return ""
        corr = abs(float(x.astype("float64").corr(y.astype("float64"), method="spearman")))
        return f"rank correlation {corr:.3f} with the target" if corr >= LEAK_CORRELATION else ""
    groups = pd.qcut(x.rank(method="first"), LEAK_BINS, labels=False) if numeric else x
    if int(pd.Series(groups).nunique()) * MIN_ROWS_PER_LEVEL > len(x):
        return ""
    purity = float(y.groupby(groups).agg(lambda s: s.value_counts().iloc[0]).sum() / len(y))
    baseline = float(y.value_counts(normalize=True).iloc[0])
    if purity >= LEAK_PURITY and baseline < LEAK_PURITY:
        return f"its values give the target for {purity:.1%} of rows"
    return ""


def _check_named(frame: pd.DataFrame, flag: str, names: Iterable[str]) -> None:
    unknown = sorted(set(names) - {str(c) for c in frame.columns})
    if unknown:
        raise ConfigError(
            f"{flag} names column(s) {unknown} that the sample does not have; "
            f"its columns are {[str(c) for c in frame.columns]}"
        )


def _decide(
    values: pd.Series, name: str, target: pd.Series, task: str, over: Overrides, max_cat: int
) -> ColumnRole:
    if name in over.exclude:
        return ColumnRole(name, Role.EXCLUDED, "excluded by --exclude")
    if over.id_column and name == over.id_column:
        return ColumnRole(name, Role.EXCLUDED, "row identifier (--id-column)", is_id=True)
    if over.time_column and name == over.time_column:
        return ColumnRole(name, Role.EXCLUDED, "date/time (--time-column)", is_time=True)
    guess = guess_role(values, name, max_cat)
    if guess.role in (Role.NUMERIC, Role.CATEGORICAL):
        leak = determines_target(values, target, task)
        if leak:
            guess = ColumnRole(name, Role.EXCLUDED, f"likely leakage: {leak}")
    if name in over.include and guess.role not in (Role.NUMERIC, Role.CATEGORICAL):
        number = pd.api.types.is_numeric_dtype(values.dtype)
        role = Role.NUMERIC if number and not pd.api.types.is_bool_dtype(values.dtype) else None
        return ColumnRole(
            name, role or Role.CATEGORICAL, f"--include (the guess was: {guess.reason})"
        )
    return guess


def _check_overrides(frame: pd.DataFrame, target: str, over: Overrides) -> None:
    if target not in frame.columns:
        raise ConfigError(
            f"the sample has no column {target!r}; pass --target with one of "
            f"{[str(c) for c in frame.columns]}"
        )
    _check_named(frame, "--exclude", over.exclude)
    _check_named(frame, "--include", over.include)
    _check_named(frame, "--id-column/--time-column", {over.id_column, over.time_column} - {""})
    both = sorted(over.exclude & over.include)
    if both:
        raise ConfigError(f"column(s) {both} are in both --exclude and --include; pick one")
    named = {*over.exclude, *over.include, over.id_column, over.time_column}
    if target in named:
        raise ConfigError(f"{target!r} is the target; it cannot also be excluded or included")


def infer_roles(
    frame: pd.DataFrame, target: str, over: Overrides | None = None, max_categories: int = 1000
) -> RolePlan:
    """Decide the task and every column's role in a sample; the overrides win over guesses."""
    over = over or Overrides()
    _check_overrides(frame, target, over)
    y = frame[target]
    task, why = (over.task, "set by --task") if over.task else infer_task(y)
    roles = tuple(
        _decide(frame[c], str(c), y, task, over, max_categories)
        for c in frame.columns
        if str(c) != target
    )
    if not any(r.role in (Role.NUMERIC, Role.CATEGORICAL) for r in roles):
        raise ConfigError(
            f"no column of the sample can be a feature ({', '.join(_brief(roles))}); "
            "name the columns to learn from with --include COLUMN"
        )
    ident = over.id_column or _best_id(roles)
    time = over.time_column or next((r.column for r in roles if r.is_time and r.column), "")
    return RolePlan(target, task, why, roles, ident, time, len(frame))


def _best_id(roles: Iterable[ColumnRole]) -> str:
    """The row identifier to name: one named like an id first, a saved pandas index last."""
    found = [r for r in roles if r.is_id and r.column]
    found.sort(key=lambda r: (not id_name(r.column), r.reason.startswith("a saved row index")))
    return found[0].column if found else ""


def _brief(roles: Iterable[ColumnRole]) -> list[str]:
    return [f"{r.column!r}: {r.reason}" for r in roles]
