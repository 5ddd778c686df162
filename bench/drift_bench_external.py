"""Run one competitor (inside its own venv) on the bench's Parquet files; print JSON timing."""

from __future__ import annotations

import json
import sys
import time

import pandas as pd


def main(name: str, ref_path: str, bat_path: str) -> None:
    """Time Evidently's DataDriftPreset or NannyML's UnivariateDriftCalculator."""
    reference, batch = pd.read_parquet(ref_path), pd.read_parquet(bat_path)
    if name == "evidently":
        from evidently import Report
        from evidently.presets import DataDriftPreset

        t = time.perf_counter()
        Report([DataDriftPreset()]).run(reference_data=reference, current_data=batch)
        secs, note = time.perf_counter() - t, "default DataDriftPreset"
    else:
        import nannyml as nml

        cols = list(reference.columns)
        calc = nml.UnivariateDriftCalculator(
            column_names=cols,
            continuous_methods=["kolmogorov_smirnov"],
            categorical_methods=["chi2"],
            chunk_number=1,
        )
        t = time.perf_counter()
        calc.fit(reference)  # like driftloop's profile: once per reference
        fit = time.perf_counter() - t
        t = time.perf_counter()
        calc.calculate(batch)
        secs = time.perf_counter() - t
        note = f"UnivariateDriftCalculator KS + chi2, 1 chunk; calculate only (fit {fit:.2f} s)"
    print(json.dumps({"seconds": secs, "note": note}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
