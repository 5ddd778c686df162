"""Pure parts of models/: replay buffer, gate, splits, label encoding, served inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftloop.errors import TrainingError
from models.data import class_list, encode_labels, split_frame
from models.gate import judge
from models.replay import merge_replay, replay_sample
from models.serving import MISSING_CATEGORY, frame_to_inputs, proba_to_frame


def test_reservoir_merge_keeps_capacity_and_is_uniform_over_all_rows() -> None:
    counts = np.zeros(300)
    for seed in range(400):
        buf, seen = merge_replay(
            pd.DataFrame({"v": []}), 0, pd.DataFrame({"v": range(100)}), 50, seed
        )
        buf, seen = merge_replay(buf, seen, pd.DataFrame({"v": range(100, 300)}), 50, seed + 1000)
        assert len(buf) == 50 and seen == 300 and buf["v"].is_unique
        counts[buf["v"].to_numpy(dtype=int)] += 1
    # Each of the 300 rows should be kept with probability 50/300: old and new rows alike.
    assert abs(counts[:100].mean() / 400 - 1 / 6) < 0.02
    assert abs(counts[100:].mean() / 400 - 1 / 6) < 0.02


def test_reservoir_below_capacity_keeps_everything_and_zero_capacity_keeps_nothing() -> None:
    buf, seen = merge_replay(pd.DataFrame({"v": [1]}), 1, pd.DataFrame({"v": [2, 3]}), 10, 0)
    assert buf["v"].tolist() == [1, 2, 3] and seen == 3
    buf, seen = merge_replay(buf, 3, pd.DataFrame({"v": [4]}), 0, 0)
    assert buf.empty and seen == 4


def test_replay_sample_share() -> None:
    buf = pd.DataFrame({"v": range(1000)})
    assert len(replay_sample(buf, 700, 0.3, 0)) == 300
    assert len(replay_sample(buf.head(100), 700, 0.3, 0)) == 100
    assert replay_sample(buf, 700, 0.0, 0).empty


def test_gate_promotes_only_on_a_strict_gain_above_the_margin() -> None:
    assert judge(0.80, 0.82, 100, 0.01).promote
    assert not judge(0.80, 0.81, 100, 0.01).promote
    assert not judge(0.80, 0.80, 100, 0.0).promote
    d = judge(0.9, 0.5, 300, 0.0)
    assert (d.champion_accuracy, d.challenger_accuracy, d.holdout_rows) == (0.9, 0.5, 300)
    assert "does not beat" in d.reason


def test_split_is_seeded_and_disjoint() -> None:
    frame = pd.DataFrame({"i": range(100)})
    rest, hold = split_frame(frame, 0.3, 5)
    assert len(hold) == 30 and len(rest) == 70
    assert set(rest["i"]) | set(hold["i"]) == set(range(100)) and not set(rest["i"]) & set(
        hold["i"]
    )
    assert split_frame(frame, 0.3, 5)[1]["i"].tolist() == hold["i"].tolist()
    with pytest.raises(TrainingError, match="cannot hold out"):
        split_frame(frame.head(1), 0.5, 0)


def test_labels_keep_their_type_and_unknown_labels_are_named() -> None:
    assert class_list(pd.Series([1, 0, 1])) == [0, 1]
    assert class_list(pd.Series(["b", "a"])) == ["a", "b"]
    assert encode_labels(pd.Series([1, 0, 1]), [0, 1], "x").tolist() == [1, 0, 1]
    with pytest.raises(TrainingError, match=r"label\(s\) \['2'\] are not classes the model knows"):
        encode_labels(pd.Series([0, 2]), [0, 1], "batch.csv")


def test_served_inputs_fill_missing_values() -> None:
    meta = {"numeric": ["x"], "categorical": ["c"], "numeric_fill": {"x": 7.5}}
    inputs = frame_to_inputs(pd.DataFrame({"x": [1.0, None], "c": ["a", None]}), meta)
    assert inputs["x"].tolist() == [[1.0], [7.5]]
    assert inputs["c"].tolist() == [["a"], [MISSING_CATEGORY]]
    with pytest.raises(KeyError, match=r"lacks feature column\(s\) \['c'\]"):
        frame_to_inputs(pd.DataFrame({"x": [1.0]}), meta)


def test_served_output_names_classes() -> None:
    out = proba_to_frame(np.array([[0.2, 0.8], [0.9, 0.1]]), ["no", "yes"])
    assert out["prediction"].tolist() == ["yes", "no"]
    assert list(out.columns) == ["prediction", "proba_no", "proba_yes"]
