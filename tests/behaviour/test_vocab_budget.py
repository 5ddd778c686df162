"""A one-level-per-row column forced into the features is refused before training, not run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.helpers import cli


def test_bootstrap_refuses_an_uncapped_50000_level_column_with_its_estimate_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = 50_000
    rng = np.random.default_rng(5)
    x = rng.normal(size=rows)
    data = tmp_path / "sessions.csv"
    pd.DataFrame(
        {
            "x": x,
            "session": [f"s{i:06d}" for i in rng.permutation(rows)],
            "y": (x + rng.normal(size=rows) > 0).astype(int),
        }
    ).to_csv(data, index=False)
    monkeypatch.chdir(tmp_path)
    # init excludes `session` (a distinct value per row); the user includes it anyway.
    init = cli("init", "--data", str(data), "--target", "y", "--include", "session")
    assert init.code == 0, init.err
    monkeypatch.setenv("DRIFTLOOP_TRAINING__MAX_CATEGORIES", "1000000")
    boot = cli("bootstrap", "--data", str(data))
    assert boot.code == 2
    assert boot.err.splitlines()[-1] == (
        "driftloop bootstrap: error: training would need about 2,622 MiB (encoded width 50003, "
        "1,600,690 parameters), over [training] memory_budget_mib = 2048. Widest categorical "
        "features: 'session' (50002 one-hot columns). Lower [training] max_categories, drop "
        "high-cardinality or identifier columns from [features], use fewer or smaller "
        "[training] hidden_units, or raise memory_budget_mib if the machine has the memory."
    )
