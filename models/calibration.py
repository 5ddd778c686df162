"""The champion's confidence calibration: fitted on its holdout, stored with its version.

A classifier's top-class probability on the rows it was not trained on, against whether it
was right, gives the map `drift/estimate.py` uses to estimate its accuracy on batches without
labels. It is written into the version's metadata (``meta["reference"]["calibration"]``)
beside the reference errors. Regressors have none (see `drift/estimate.py`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from driftloop import drift
from driftloop.models.data import encode_target
from driftloop.models.serving import is_classifier, predict_proba

BAND_LEVEL = 0.95
"""The level of the band around a batch's estimated accuracy."""


def calibration_of(
    model: Any, holdout: pd.DataFrame, meta: dict[str, Any]
) -> dict[str, Any] | None:
    """The confidence calibration of a classifier on a labelled holdout (None: regressor)."""
    if not is_classifier(meta) or len(holdout) == 0:
        return None
    proba = predict_proba(model, holdout, meta)
    correct = np.argmax(proba, axis=1) == encode_target(holdout[meta["target"]], meta, "holdout")
    return drift.fit_calibration(proba, correct).to_dict()


def stored_calibration(meta: dict[str, Any]) -> drift.Calibration | None:
    """The calibration stored with a version, or None (a regressor, or an older version)."""
    data = meta.get("reference", {}).get("calibration")
    return None if data is None else drift.Calibration.from_dict(data)


def estimate_of(
    meta: dict[str, Any], outputs: np.ndarray, level: float = BAND_LEVEL
) -> drift.Estimate | None:
    """A version's estimated accuracy on rows it gave `outputs` for (None without a map)."""
    calibration = stored_calibration(meta)
    if calibration is None or len(outputs) == 0:
        return None
    return drift.estimate_accuracy(calibration, outputs, level)
