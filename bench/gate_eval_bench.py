"""Cost of the gate's MLflow evaluation record (models/gate_evaluation.py) per challenge.

Both models' holdout predictions (180 rows, as a 600-row batch's 30 % holdout) are evaluated
with `mlflow.models.evaluate` (static frame, the gate's metric only) and validated with
`mlflow.validate_evaluation_results`, on a fresh sqlite store in a temporary folder. The
baseline, measured in the same run, is what the gate logged already: its decision metrics in
one `log_to_run` call. The first evaluation in a process pays MLflow's evaluation imports; a
served flow run is a new process each time, so both the first and the later calls count.
Run: ``.venv/bin/python bench/gate_eval_bench.py [rows] [repeats]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from driftloop.models.gate_evaluation import LABEL, PREDICTION, evaluate_gate
from driftloop.models.options import Store
from driftloop.models.registry import connect
from driftloop.models.tracking import log_to_run, start_batch_run


def _frames(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels with a challenger right 85 % of the time and a champion right 70 %."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    right = [rng.random(rows) < p for p in (0.85, 0.70)]
    a, b = (pd.DataFrame({LABEL: y, PREDICTION: np.where(r, y, 1 - y)}) for r in right)
    return a, b


def main(rows: int = 180, repeats: int = 5) -> None:
    """Print the first and the median later evaluation time against the baseline's."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        store = Store(f"sqlite:///{root / 'mlflow.db'}", "bench", str(root / "art"), root / "c")
        client = connect(store)
        times, base = [], []
        for i in range(repeats + 1):
            run_id = start_batch_run(client, "bench", f"b{i}", {}, {})
            ours, theirs = _frames(rows, i)
            t0 = time.perf_counter()
            log_to_run(client, run_id, metrics={"gate_accuracy_new_challenger": 0.85})
            base.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            checked = evaluate_gate(client, run_id, ours, theirs, True, 0.0)
            times.append(time.perf_counter() - t0)
        later, baseline = float(np.median(times[1:])), float(np.median(base))
        print(f"rows {rows}, validation: {'passed' if checked.passed else checked.message}")
        print(f"first evaluation (cold imports): {times[0]:.2f} s")
        print(f"later evaluations (median of {repeats}): {later:.3f} s")
        print(f"baseline log_to_run (median): {baseline:.3f} s; ratio {later / baseline:.1f}x")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
