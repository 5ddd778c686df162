"""Checks of a batch that need the serving model: unknown label classes, unseen-category floods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from driftloop.core.labels import label_keys


def unseen_category_flood(
    frame: pd.DataFrame,
    name: str,
    known: Mapping[str, Sequence[str]],
    limit: float,
    version: str,
) -> str:
    """Why the batch is a flood of categories the model never saw (per column), or ""."""
    rows = len(frame)
    for col, categories in known.items():
        if col not in frame.columns or not rows:
            continue
        values = frame[col]
        unseen = values.notna() & ~values.astype("str").isin(set(categories))
        n = int(unseen.sum())
        if n / rows > limit:
            examples = sorted(set(values[unseen].astype("str")))[:5]
            return (
                f"{name}: column {col!r} holds {n} of {rows} row(s) ({n / rows:.0%}) "
                f"with categories champion version {version} never saw (e.g. "
                f"{examples}), more than [ingest] max_unseen_share = {limit}. Fix the "
                "producer's codes, or bootstrap a model on data with these categories."
            )
    return ""


def unknown_labels(
    frame: pd.DataFrame, name: str, target: str, classes: Sequence[Any], version: str
) -> str:
    """Why the batch's labels include classes the model does not know, or ""."""
    known = set(label_keys(classes))
    labels = label_keys(frame[target])
    unknown = sorted(set(labels.unique()) - known)
    if not unknown:
        return ""
    return (
        f"{name}: target {target!r} holds {int((~labels.isin(known)).sum())} "
        f"row(s) with class(es) {unknown[:5]} that champion version {version} does not "
        f"know ({sorted(known)}); fix the labels, or bootstrap a model on data with these classes."
    )
