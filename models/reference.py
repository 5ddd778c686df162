"""The drift reference stored with a new version: its data profile plus its own predictions.

A classifier's predicted probabilities on the rows its profile was built from are kept in the
profile, so that later batches are also tested for prediction drift (``__prediction__`` in
the drift report): a shift of the model's output distribution, which can show before labels
arrive. Regressors keep no prediction sample (their outputs have no common scale for the
effect-size floor).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from driftloop import drift
from driftloop.models.serving import is_classifier, predict_proba
from driftloop.models.train import TrainedModel


def profile_with_predictions(
    profile: dict[str, Any], trained: TrainedModel, frame: pd.DataFrame, max_values: int, seed: int
) -> dict[str, Any]:
    """``profile`` plus the new classifier's probabilities on ``frame`` (regressors: unchanged)."""
    if not is_classifier(trained.meta):
        return profile
    proba = predict_proba(trained.model, frame, trained.meta)
    reference = drift.ReferenceProfile.from_dict(profile)
    return drift.with_predictions(reference, proba, max_values, seed).to_dict()
