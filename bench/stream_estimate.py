"""The label-free estimate measured on the streams: estimated against realized accuracy.

Every batch of a stream is labelled, so each driftloop record holds both the champion's
estimated accuracy (`estimated_score`, from its calibrated confidence, computed as if the
labels were missing) and its realized accuracy on the same batch (`score_batch`, before any
retrain on it). Their mean absolute error per stream says how far the estimate can be
trusted while labels are late. Used by bench/stream_bench.py; also runnable alone (driftloop's
loop only, no baselines):

    .venv/bin/python bench/stream_estimate.py --streams covariate,concept --rows 2000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from driftloop.app.streams import make_scenario  # noqa: E402

MAX_MAE = {"covariate": 0.02}
"""The must-show bound on the estimate's mean absolute error, per stream."""


@dataclass(frozen=True)
class EstimateError:
    """Estimated against realized accuracy over one stream's batches."""

    mae: float
    worst: float
    worst_batch: int
    within_band: int
    batches: int
    estimated: list[float]
    realized: list[float]


def estimate_error(records: list[Any]) -> EstimateError:
    """MAE, worst error and band coverage of the estimate over the stream's records.

    Examples:
        >>> from driftloop.core.records import BatchRecord
        >>> rs = [BatchRecord("a", "processed", estimated_score=0.9, estimate_low=0.88,
        ...                   estimate_high=0.92, score_batch=0.91),
        ...       BatchRecord("b", "processed", estimated_score=0.9, estimate_low=0.88,
        ...                   estimate_high=0.92, score_batch=0.6)]
        >>> e = estimate_error(rs)
        >>> round(e.mae, 3), round(e.worst, 3), e.worst_batch, e.within_band
        (0.155, 0.3, 1, 1)
    """
    est = [float(r.estimated_score) for r in records]
    real = [float(r.score_batch) for r in records]
    gaps = [abs(e - r) for e, r in zip(est, real, strict=True)]
    inside = sum(
        1
        for r, x in zip(records, real, strict=True)
        if float(r.estimate_low) <= x <= float(r.estimate_high)
    )
    worst = max(range(len(gaps)), key=gaps.__getitem__)
    return EstimateError(sum(gaps) / len(gaps), gaps[worst], worst, inside, len(gaps), est, real)


def estimate_check(stream: str, err: EstimateError) -> bool | None:
    """PASS/FAIL of the stream's MAE bound (None: no bound for this stream)."""
    bound = MAX_MAE.get(stream)
    return None if bound is None else err.mae <= bound


def estimate_table(rows: list[tuple[str, list[int], EstimateError]]) -> str:
    """Markdown: per stream, the estimate's MAE, worst batch, band coverage and check."""
    head = (
        "| stream | drift points | MAE estimated vs realized | worst error (batch) "
        "| realized within band | check |\n|---|---|---|---|---|---|\n"
    )
    lines = []
    for name, points, e in rows:
        ok = estimate_check(name, e)
        check = "-" if ok is None else f"{'PASS' if ok else 'FAIL'} (<= {MAX_MAE[name]:.2f})"
        lines.append(
            f"| {name} | {points or 'none'} | {e.mae:.4f} | {e.worst:.4f} ({e.worst_batch}) "
            f"| {e.within_band}/{e.batches} | {check} |"
        )
    return head + "\n".join(lines) + "\n"


def main() -> int:
    """driftloop's loop on each stream; the estimate's error, printed and written as JSON."""
    from bench.stream_policies import run_driftloop, start_project

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=12)
    parser.add_argument("--streams", default="covariate,concept")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "stream_results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="driftloop-estimate-bench-") as tmp:
        os.environ.setdefault("PREFECT_HOME", str(Path(tmp) / "prefect-home"))
        for name in [s.strip() for s in args.streams.split(",") if s.strip()]:
            stream = make_scenario(name, seed=args.seed, rows=args.rows, batches=args.batches)
            config_path, _, _ = start_project(Path(tmp) / name, stream, f"estimate-{name}")
            _, records = run_driftloop(config_path, stream)
            err = estimate_error(records)
            print(f"{name}: {[r.action.value for r in records]}", flush=True)
            rows.append((name, stream.drift_points, err))
    text = estimate_table(rows)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    dump = {name: {"drift_points": p, **asdict(e)} for name, p, e in rows}
    (args.out / "estimate.json").write_text(json.dumps(dump, indent=1), encoding="utf-8")
    return 0 if all(estimate_check(n, e) is not False for n, _, e in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
