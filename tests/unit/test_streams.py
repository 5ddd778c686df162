"""The evaluation streams: drift points where the docs say, seeded, and the drift really there."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from driftloop.app.stream import TARGET, draw_labels, make_batch, make_stream
from driftloop.app.streams import SCENARIOS, blend_batch, make_scenario, stable_stretch
from driftloop.core.errors import DriftloopError


@pytest.mark.parametrize(
    ("name", "batches", "points"),
    [
        ("covariate", 16, [5]),
        ("concept", 16, [5]),
        ("gradual", 16, [4]),
        ("recurring", 16, [4, 8, 12]),
        ("recurring", 18, [4, 8, 12]),
        ("stable", 16, []),
        ("concept", 9, [3]),
    ],
)
def test_drift_points_and_sizes(name: str, batches: int, points: list[int]) -> None:
    s = make_scenario(name, seed=1, rows=40, batches=batches)
    assert s.drift_points == points
    assert [b.index for b in s.batches] == list(range(batches))
    assert all(len(b.frame) == 40 for b in s.batches) and len(s.bootstrap) == 80
    assert stable_stretch(s) == list(range(points[0] if points else batches))
    assert all(b.phase == "stable" for b in s.batches[: len(stable_stretch(s))])


def test_same_seed_same_stream_other_seed_other_stream() -> None:
    for name in SCENARIOS:
        a, b = (make_scenario(name, seed=4, rows=30, batches=8) for _ in range(2))
        pd.testing.assert_frame_equal(a.bootstrap, b.bootstrap)
        for x, y in zip(a.batches, b.batches, strict=True):
            pd.testing.assert_frame_equal(x.frame, y.frame)
        c = make_scenario(name, seed=5, rows=30, batches=8)
        assert not a.batches[-1].frame.equals(c.batches[-1].frame)


def _new_rule_share(frame: pd.DataFrame) -> float:
    """Share of rows whose label equals the new rule's noise-free-ish label, old rule aside."""
    rng = np.random.default_rng(0)
    old, new = draw_labels(rng, frame, 0), draw_labels(rng, frame, 1)
    y = frame[TARGET].to_numpy()
    differ = old != new
    return float((y[differ] == new[differ]).mean())


def test_the_drift_is_in_the_data() -> None:
    cov = make_scenario("covariate", seed=2, rows=3000, batches=12)
    assert cov.batches[3].frame["x1"].mean() < 0.2 < 2.0 < cov.batches[4].frame["x1"].mean()
    con = make_scenario("concept", seed=2, rows=3000, batches=12)
    assert _new_rule_share(con.batches[3].frame) < 0.1 < 0.9 < _new_rule_share(con.batches[4].frame)
    assert abs(con.batches[4].frame["x1"].mean()) < 0.2  # features do not move
    grad = make_scenario("gradual", seed=2, rows=3000, batches=16)
    shares = [_new_rule_share(b.frame) for b in grad.batches]
    ramp = shares[4:9]
    assert shares[3] < 0.1 and all(a < b for a, b in itertools.pairwise(ramp))
    assert 0.1 < ramp[0] < 0.3 and 0.75 < ramp[-1] < 0.95 and shares[-1] > 0.9
    rec = make_scenario("recurring", seed=2, rows=3000, batches=16)
    new = [_new_rule_share(b.frame) > 0.5 for b in rec.batches]
    assert new == [False] * 4 + [True] * 4 + [False] * 4 + [True] * 4


def test_blend_extremes_are_plain_batches() -> None:
    for share, concept in ((0.0, 0), (1.0, 1)):
        a = blend_batch(np.random.default_rng(3), 50, shifted=True, share=share)
        b = make_batch(np.random.default_rng(3), 50, shifted=True, concept=concept)
        pd.testing.assert_frame_equal(a, b)


def test_demo_stream_unchanged_by_the_new_module() -> None:
    # Fingerprint of make_stream(seed=0, rows=50) taken before draw_features/draw_labels existed.
    s = make_stream(seed=0, rows=50)
    assert s.drift_points == [4, 9] and len(s.batches) == 16
    assert round(float(sum(b.frame["x1"].sum() for b in s.batches)), 6) == 1574.768403
    assert int(sum(b.frame[TARGET].sum() for b in s.batches)) == 382


def test_bad_names_and_sizes_are_refused() -> None:
    with pytest.raises(DriftloopError, match="unknown stream 'sudden'"):
        make_scenario("sudden")
    with pytest.raises(DriftloopError, match="at least 8 batches"):
        make_scenario("concept", batches=5)
