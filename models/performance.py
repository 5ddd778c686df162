"""Performance drift of a model version: do its errors on new labelled rows differ from before?"""

from __future__ import annotations

import numpy as np

from driftloop.drift.loss import error_change_test
from driftloop.drift.performance import accuracy_change_test
from driftloop.drift.result import TestResult
from driftloop.models.champion import Champion
from driftloop.models.serving import is_classifier


def performance_test(champion: Champion, batch_errors: np.ndarray) -> TestResult:
    """Accuracy change (classifier, two-proportion z-test) or error change (regressor, U test)."""
    if is_classifier(champion.meta):
        accuracy = float(1.0 - np.mean(batch_errors))
        return accuracy_change_test(
            champion.reference_accuracy, champion.reference_rows, accuracy, len(batch_errors)
        )
    return error_change_test(champion.reference_errors, batch_errors)
