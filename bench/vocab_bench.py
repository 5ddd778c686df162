"""Peak memory of `driftloop bootstrap` on a categorical column with one level per row.

Writes a seeded 50,000-row file whose column `session` has 50,000 levels (plus two numeric
columns and a 5-level categorical), a driftloop.toml that lists `session` as a categorical
feature, runs `driftloop bootstrap` in a child process and prints the child's peak RSS
against the 2 GiB budget. With the vocabulary capped ([training] max_categories = 1000) the
one-hot width stays near 1,000; `--uncapped` lifts the cap to show that bootstrap then
refuses before training, with its estimate, instead of growing without bound.

    .venv/bin/python bench/vocab_bench.py                # 50,000 rows, 50,000 levels
    .venv/bin/python bench/vocab_bench.py --uncapped     # the refusal and its estimate
    .venv/bin/python bench/vocab_bench.py --rows 200000 --levels 200000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

BUDGET_MIB = 2048


def write_project(folder: Path, rows: int, levels: int, seed: int) -> Path:
    """The data file and a config naming the high-cardinality column as a feature."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=rows), rng.normal(size=rows)
    frame = pd.DataFrame(
        {
            "x1": x1,
            "x2": x2,
            "colour": rng.choice(["red", "green", "blue", "grey", "teal"], rows),
            "session": [f"s{i:07d}" for i in rng.permutation(rows) % levels],
            "label": (x1 + 0.5 * x2 + rng.normal(0, 0.5, rows) > 0).astype(int),
        }
    )
    frame.to_csv(folder / "data.csv", index=False)
    (folder / "driftloop.toml").write_text(
        'work_dir = "work"\n[model]\nname = "vocab-bench"\ntarget = "label"\n'
        '[features]\nnumeric = ["x1", "x2"]\ncategorical = ["colour", "session"]\n',
        encoding="utf-8",
    )
    return folder / "data.csv"


def main() -> int:
    """Run one bootstrap in a child process and report its peak RSS."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=50_000)
    p.add_argument("--levels", type=int, default=50_000)
    p.add_argument("--epochs", type=int, default=3, help="memory does not grow with epochs")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--uncapped", action="store_true", help="max_categories = 1,000,000")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="vocab-bench-") as tmp:
        data = write_project(Path(tmp), args.rows, args.levels, args.seed)
        env = {
            **os.environ,
            "DRIFTLOOP_TRAINING__EPOCHS": str(args.epochs),
            "DRIFTLOOP_FINETUNE__TENSORBOARD": "false",
        }
        if args.uncapped:
            env["DRIFTLOOP_TRAINING__MAX_CATEGORIES"] = "1000000"
        cmd = [sys.executable, "-m", "driftloop.app.cli", "bootstrap", "--data", str(data)]
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB on Linux
    said = (done.stdout.strip() or done.stderr.strip()).splitlines()[-1:]
    print(
        json.dumps(
            {
                "rows": args.rows,
                "levels": args.levels,
                "uncapped": args.uncapped,
                "exit_code": done.returncode,
                "seconds": round(seconds, 1),
                "peak_rss_mib": round(peak_mib),
                "budget_mib": BUDGET_MIB,
                "within_budget": peak_mib < BUDGET_MIB,
                "bootstrap_said": said[0] if said else "",
            },
            indent=2,
        )
    )
    return 0 if peak_mib < BUDGET_MIB else 1


if __name__ == "__main__":
    sys.exit(main())
