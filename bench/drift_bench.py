"""Drift engine benchmark: driftloop vs one sort per column, naive scipy, Evidently, NannyML.

1M reference rows and 1M batch rows, 20 numeric and 5 categorical features (seeded; the
batch has real shifts in x0 and c0); then 100 and 400 numeric features at 100k rows, and the
profile build at 25, 100 and 400 numeric features (100k rows). Each drift check is held to
its time against one ``np.sort`` of every batch column, measured in the same run.
Run: ``.venv/bin/python bench/drift_bench.py [rows] [--no-external] [--no-wide]``.
Evidently and NannyML are installed into ``bench/.venvs/<name>`` when possible and run in
their own interpreter on the same data (written once to Parquet); a failed install is
reported and skipped. ``--no-external`` skips them (Evidently alone takes minutes at 1M).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from driftloop import drift

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
PINS = {
    "evidently": ["evidently==0.7.23", "pandas<3"],  # evidently 0.7.23 breaks on pandas 3
    "nannyml": ["nannyml==0.13.1", "statsmodels"],  # an undeclared import of nannyml.plots
}
NUMERIC = [f"x{i}" for i in range(20)]
CATEGORICAL = [f"c{i}" for i in range(5)]
REPEATS = 3
SORT_TARGET = {"1M rows, 20 numeric + 5 categorical": 2.0, "wide": 3.0}
"""Most a drift check may take, in units of one np.sort of every batch column (issue 17)."""
WIDE = (100, 400)
"""Numeric features of the wide checks (100k rows)."""
PROFILE_WIDTHS = (25, 100, 400)


def make(rows: int, seed: int, shifted: bool) -> pd.DataFrame:
    """Seeded frame; the shifted batch moves x0 by 0.05 sd and c0's mix by 5 points."""
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {n: rng.normal(size=rows) for n in NUMERIC}
    if shifted:
        data["x0"] = np.asarray(data["x0"]) + 0.05
    for i, name in enumerate(CATEGORICAL):
        p = np.array([0.4, 0.3, 0.2, 0.1])
        if shifted and i == 0:
            p = np.array([0.35, 0.3, 0.2, 0.15])
        data[name] = pd.Categorical(rng.choice(["a", "b", "c", "d"], size=rows, p=p))
    return pd.DataFrame(data)


def naive(reference: pd.DataFrame, batch: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """Per-column scipy: ks_2samp and chi2_contingency on the 2 x K table."""
    out = {}
    for name in NUMERIC:
        r = stats.ks_2samp(reference[name].to_numpy(), batch[name].to_numpy())
        out[name] = (float(r.statistic), float(r.pvalue))
    for name in CATEGORICAL:
        table = pd.concat(
            [reference[name].value_counts(), batch[name].value_counts()], axis=1
        ).fillna(0)
        r = stats.chi2_contingency(table.to_numpy().T)
        out[name] = (float(r.statistic), float(r.pvalue))
    return out


def sort_seconds(batch: pd.DataFrame) -> float:
    """Best of REPEATS: one np.sort of every batch column (a categorical one's codes)."""
    arrays = [
        batch[c].cat.codes.to_numpy()
        if isinstance(batch[c].dtype, pd.CategoricalDtype)
        else batch[c].to_numpy()
        for c in batch.columns
    ]
    best = float("inf")
    for _ in range(REPEATS):
        t = time.perf_counter()
        for array in arrays:
            np.sort(array)
        best = min(best, time.perf_counter() - t)
    return best


def against_sort(label: str, check_s: float, sort_s: float, target: float) -> None:
    """Print a check's time as a multiple of one sort per column, with its target."""
    ratio = check_s / sort_s
    verdict = "PASS" if ratio <= target else "FAIL"
    print(
        f"{label}: drift check {check_s * 1e3:.0f} ms, one np.sort per column "
        f"{sort_s * 1e3:.0f} ms -> {ratio:.2f}x (target <= {target:g}x): {verdict}"
    )


def wide(rows: int = 100_000) -> None:
    """The check at 100 and 400 numeric features, and the profile build per feature."""
    for width in PROFILE_WIDTHS:
        rng = np.random.default_rng(width)
        frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(width)})
        t = time.perf_counter()
        drift.build_profile(frame, list(frame.columns), [], max_values=rows)
        took = time.perf_counter() - t
        print(
            f"profile build, {width} numeric features x {rows:,} rows: {took:.2f} s "
            f"= {took / width * 1e3:.1f} ms per feature"
        )
    for width in WIDE:
        rng = np.random.default_rng(width + 1)
        names = [f"x{i}" for i in range(width)]
        reference = pd.DataFrame({n: rng.normal(size=rows) for n in names})
        batch = pd.DataFrame({n: rng.normal(size=rows) for n in names})
        batch["x0"] += 0.05
        profile = drift.build_profile(reference, names, [], max_values=rows)
        drift.detect_drift(profile, batch.head(1000))  # warm-up
        check = float("inf")
        for _ in range(REPEATS):
            t = time.perf_counter()
            drift.detect_drift(profile, batch)
            check = min(check, time.perf_counter() - t)
        label = f"{rows:,} rows, {width} numeric"
        against_sort(label, check, sort_seconds(batch), SORT_TARGET["wide"])


def external(name: str, ref_path: Path, bat_path: Path) -> dict[str, object]:
    """Install (once) and time a competitor in its own venv; returns its figures or the error."""
    venv = VENVS / name
    python = venv / "bin" / "python"
    try:
        if not python.exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        check = subprocess.run([str(python), "-c", f"import {name}"], capture_output=True)
        if check.returncode != 0:
            subprocess.run(
                [str(python), "-m", "pip", "install", "-q", *PINS[name]],
                check=True,
                capture_output=True,
                text=True,
            )
    except subprocess.CalledProcessError as exc:
        return {"error": f"install of {' '.join(PINS[name])} failed: {(exc.stderr or '')[-500:]}"}
    done = subprocess.run(
        [str(python), str(HERE / "drift_bench_external.py"), name, str(ref_path), str(bat_path)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        return {"error": done.stderr[-800:]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(rows: int = 1_000_000, external_tools: bool = True, wide_checks: bool = True) -> None:
    """Run every contender on the same frames and print times, ratios and peak memory."""
    print(f"rows per side: {rows:,}; cores: {os.cpu_count()}")
    reference, batch = make(rows, 1, False), make(rows, 2, True)
    frames_bytes = int(
        reference.memory_usage(deep=True).sum() + batch.memory_usage(deep=True).sum()
    )
    t = time.perf_counter()
    profile = drift.build_profile(reference, NUMERIC, CATEGORICAL, max_values=rows)
    print(f"profile (once per model version): {time.perf_counter() - t:.2f} s")
    drift.detect_drift(profile, batch.head(1000))  # warm-up (imports, thread pool)
    ours = naive_s = one_thread = float("inf")
    for _ in range(REPEATS):  # best of REPEATS, untraced: tracemalloc slows allocations
        t = time.perf_counter()
        report = drift.detect_drift(profile, batch)
        ours = min(ours, time.perf_counter() - t)
        t = time.perf_counter()
        drift.detect_drift(profile, batch, drift.DriftOptions(workers=1))
        one_thread = min(one_thread, time.perf_counter() - t)
        t = time.perf_counter()
        base = naive(reference, batch)
        naive_s = min(naive_s, time.perf_counter() - t)
    tracemalloc.start()  # peak memory from one more, traced, run
    drift.detect_drift(profile, batch)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    stat_equal = all(
        report.features[i].statistic == base[f.feature][0]
        for i, f in enumerate(report.features)
        if f.feature in base
    )
    rel = max(
        abs(f.p_value - base[f.feature][1]) / base[f.feature][1]
        for f in report.features
        if f.feature in base and base[f.feature][1] > 1e-10
    )
    naive_drift = [n for n, (_, p) in base.items() if p <= 0.05 / len(base)]
    print(
        f"driftloop detect_drift: {ours:.2f} s; peak traced memory {peak / 2**20:.0f} MiB "
        f"= {peak / frames_bytes:.2f} x the two frames ({frames_bytes / 2**20:.0f} MiB)"
    )
    print(
        f"naive scipy: {naive_s:.2f} s -> driftloop is {naive_s / ours:.1f}x faster "
        f"(both best of {REPEATS})"
    )
    print(
        f"driftloop on one thread: {one_thread:.2f} s ({naive_s / one_thread:.1f}x faster than "
        f"naive scipy; {os.cpu_count()} threads give {one_thread / ours:.2f}x)"
    )
    print(
        f"statistics identical to scipy: {stat_equal}; "
        f"max p-value rel. error (p > 1e-10): {rel:.2e}"
    )
    print(
        f"driftloop drifted: {report.drifted_features}; naive (Bonferroni) drifted: {naive_drift}"
    )
    label = f"{rows:,} rows, 20 numeric + 5 categorical"
    against_sort(
        label, ours, sort_seconds(batch), SORT_TARGET["1M rows, 20 numeric + 5 categorical"]
    )
    if wide_checks:
        wide()
    if not external_tools:
        print("evidently, nannyml: not run (--no-external)")
        return
    data = HERE / "out"
    data.mkdir(exist_ok=True)
    ref_path, bat_path = data / "reference.parquet", data / "batch.parquet"
    reference.to_parquet(ref_path)
    batch.to_parquet(bat_path)
    for name in PINS:
        got = external(name, ref_path, bat_path)
        if "seconds" in got:
            secs = float(got["seconds"])  # type: ignore[arg-type]
            note = got.get("note", "")
            how = (
                f"driftloop is {secs / ours:.1f}x faster"
                if secs >= ours
                else f"it takes {secs / ours:.2f}x driftloop's time"
            )
            print(f"{name}: {secs:.2f} s -> {how}; {note}")
        else:
            print(f"{name}: skipped ({got.get('error')})")


if __name__ == "__main__":
    flags = {"--no-external", "--no-wide"}
    args = [arg for arg in sys.argv[1:] if arg not in flags]
    main(
        int(args[0]) if args else 1_000_000,
        "--no-external" not in sys.argv[1:],
        "--no-wide" not in sys.argv[1:],
    )
