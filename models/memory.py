"""What a model and its encodings will need in memory, estimated before any training starts."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from driftloop.core.errors import TrainingError
from driftloop.models.serving import CHUNK_BYTES

FLOAT = 4  # bytes of a float32
# Weights, their gradients and Adam's two moments: four floats per parameter.
COPIES_PER_PARAMETER = 4
# Rows encoded at once: the validation batch of the fit loop (models/train.py).
ENCODED_ROWS = 4096
# The frame is held as read, as model inputs, and as the tensors of the training set.
FRAME_COPIES = 3
MIB = 1 << 20
# The process before any encoding: TensorFlow, MLflow and Prefect loaded, the frame read and
# profiled. bench/vocab_bench.py measured 1.3 GiB peak for a whole bootstrap whose encodings
# take under 0.1 GiB.
RUNTIME_BYTES = 1024 * MIB


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated bytes of one training run, and the widest encoded features behind them."""

    encoded_width: int
    parameters: int
    total_bytes: int
    widest: tuple[tuple[str, int], ...]

    @property
    def mib(self) -> float:
        """The estimate in MiB."""
        return self.total_bytes / MIB


def estimate_training_memory(
    frame: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    target: str,
    task: str,
    hidden_units: Sequence[int],
    max_categories: int,
) -> MemoryEstimate:
    """Estimate the peak memory of training on `frame`: runtime, data, parameters, encodings."""
    outputs = int(frame[target].nunique()) if task == "classification" else 1
    widths = {c: min(int(frame[c].nunique()), max_categories) + 2 for c in categorical}
    width = len(numeric) + sum(widths.values())
    layers = [width, *hidden_units, outputs]
    params = sum((a + 1) * b for a, b in itertools.pairwise(layers))
    encoded = max(ENCODED_ROWS * width * FLOAT, min(CHUNK_BYTES, len(frame) * width * FLOAT))
    data = int(frame.memory_usage(deep=True).sum()) * FRAME_COPIES
    total = RUNTIME_BYTES + data + params * FLOAT * COPIES_PER_PARAMETER + 2 * encoded
    widest = tuple(sorted(widths.items(), key=lambda kv: -kv[1])[:3])
    return MemoryEstimate(width, params, total, widest)


def require_memory_budget(estimate: MemoryEstimate, budget_mib: int) -> None:
    """Refuse to train when the estimate exceeds the budget, naming the widest features."""
    if estimate.mib <= budget_mib:
        return
    widest = ", ".join(f"{c!r} ({w} one-hot columns)" for c, w in estimate.widest) or "none"
    raise TrainingError(
        f"training would need about {estimate.mib:,.0f} MiB (encoded width "
        f"{estimate.encoded_width}, {estimate.parameters:,} parameters), over "
        f"[training] memory_budget_mib = {budget_mib}. "
        f"Widest categorical features: {widest}. Lower [training] max_categories, drop "
        "high-cardinality or identifier columns from [features], use fewer or smaller "
        "[training] hidden_units, or raise memory_budget_mib if the machine has the memory."
    )
