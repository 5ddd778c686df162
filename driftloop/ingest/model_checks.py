"""Checks of a batch that need the serving model: unknown label classes, unseen-category floods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from driftloop.core.labels import label_keys
from driftloop.core.text import text_codes


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
        codes, texts = text_codes(frame[col])
        known_texts = set(categories)
        fresh = np.array([t not in known_texts for t in texts] + [False])  # -1: missing
        n = int(fresh[codes].sum())
        if n / rows > limit:
            examples = sorted(t for t, f in zip(texts, fresh, strict=False) if f)[:5]
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
