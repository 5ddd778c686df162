"""The demo stream, end to end: drift flagged exactly at the drift points, promotions that help."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from driftloop.demo import MARKER, run_demo
from driftloop.errors import DriftloopError


def test_demo_flags_the_drift_points_and_promotes_better_models(tmp_path: Path) -> None:
    out = io.StringIO()
    result = run_demo(tmp_path / "demo", rows=2000, seed=0, out=out)
    recs = result.records
    assert len(recs) == 16 and result.stream.drift_points == [4, 9]
    assert [i for i, r in enumerate(recs) if r["drift"]] == [4, 9]
    assert recs[4]["drifted_features"][:3] == ["x1", "x3", "c1"]
    assert "__accuracy__" in recs[9]["drifted_features"]
    assert [r["action"] for r in recs].count("promoted") == 2
    assert (recs[4]["action"], recs[9]["action"]) == ("promoted", "promoted")
    assert [r["champion_version"] for r in recs] == ["1"] * 4 + ["2"] * 5 + ["3"] * 7
    # After the concept change, the promoted model beats the old champion on the next batch.
    follow = {f["promoted_at"]: f for f in result.follow_ups}
    concept = follow["batch_009.csv"]
    assert (concept["old_version"], concept["new_version"]) == ("2", "3")
    assert concept["new_accuracy"] > concept["old_accuracy"] + 0.3
    shift = follow["batch_004.csv"]
    assert shift["new_accuracy"] > shift["old_accuracy"]

    text = out.getvalue()
    assert text.count("\nbatch_0") == 16
    assert "mlflow ui --backend-store-uri sqlite:///" in text
    assert f"PREFECT_HOME={tmp_path / 'demo' / 'driftloop-work' / 'prefect'}" in text
    assert result.plot_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # A second demo run recreates its own folder, but never a folder it did not make.
    (tmp_path / "other").mkdir()
    with pytest.raises(DriftloopError, match="was not made by `driftloop demo`"):
        run_demo(tmp_path / "other", rows=100)
    assert (tmp_path / "demo" / MARKER).exists()
