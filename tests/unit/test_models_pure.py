"""Pure parts of models/: replay buffer, gate, splits, label encoding, served inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftloop.core.errors import TrainingError
from driftloop.models.data import class_list, encode_labels, split_frame
from driftloop.models.gate import first_model_passes, judge
from driftloop.models.replay import ReplayBuffer, merge_replay, replay_sample
from driftloop.models.serving import (
    MISSING_CATEGORY,
    frame_to_inputs,
    outputs_to_frame,
    proba_to_frame,
)


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
    assert d.checks == {"improvement": "fail", "forgetting": "skipped: no past rows to check"}
    assert "gain -0.4000 <= 0.0000" in d.reason


def test_forgetting_guard_blocks_a_gain_bought_with_past_accuracy() -> None:
    past = {"champion_past": 0.90, "past_rows": 400, "max_forgetting": 0.02}
    ok = judge(0.80, 0.85, 600, 0.0, challenger_past=0.89, **past)
    assert ok.promote and ok.checks == {"improvement": "pass", "forgetting": "pass"}
    bad = judge(0.80, 0.85, 600, 0.0, challenger_past=0.87, **past)
    assert not bad.promote and bad.checks["forgetting"] == "fail"
    assert "loss 0.0300 > 0.0200" in bad.reason
    # After a concept change the old labels no longer hold: the guard is skipped, and says so.
    changed = judge(0.40, 0.85, 600, 0.0, challenger_past=0.50, concept_changed=True, **past)
    assert changed.promote and changed.checks["forgetting"].startswith("skipped: concept change")
    assert changed.as_tags()["gate_check_forgetting"].startswith("skipped")


def test_gate_on_rmse_uses_relative_change_and_lower_is_better() -> None:
    assert judge(2.0, 1.5, 100, 0.1, metric="rmse").promote  # 25% lower RMSE
    assert not judge(2.0, 1.9, 100, 0.1, metric="rmse").promote  # only 5%
    d = judge(
        2.0,
        1.0,
        100,
        0.0,
        metric="rmse",
        champion_past=1.0,
        challenger_past=1.05,
        past_rows=50,
        max_forgetting=0.02,
    )
    assert not d.promote and "loss 0.0500 > 0.0200" in d.reason


def test_first_model_is_judged_by_a_value_threshold() -> None:
    assert first_model_passes("accuracy", 0.7, 0.6) == (
        True,
        "first model: validation accuracy 0.7000 >= threshold 0.6000",
    )
    assert not first_model_passes("rmse", 3.0, 2.5)[0]
    assert first_model_passes("rmse", 3.0, None)[0]


def test_stratified_replay_keeps_rare_classes() -> None:
    buf = ReplayBuffer(pd.DataFrame({"y": [], "v": []}))
    for seed in range(5):
        batch = pd.DataFrame({"y": [0] * 190 + [1] * 10, "v": range(200 * seed, 200 * seed + 200)})
        buf = buf.add(batch, "y", capacity=40, seed=seed, stratify=True)
    assert buf.seen == {"0": 950, "1": 50}
    assert buf.frame["y"].value_counts().to_dict() == {0: 20, 1: 20}
    again = ReplayBuffer.from_json(buf.frame, buf.seen_json())
    assert again.seen == buf.seen
    plain = ReplayBuffer(pd.DataFrame({"y": []})).add(batch, "y", 40, 0, stratify=False)
    assert plain.seen == {"__all__": 200} and len(plain.frame) == 40


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


def test_served_output_of_a_regressor_is_one_value_column() -> None:
    out = outputs_to_frame(np.array([[1.5], [-2.0]]), {"task": "regression"})
    assert out.to_dict("list") == {"prediction": [1.5, -2.0]}
