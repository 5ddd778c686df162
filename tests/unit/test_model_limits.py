"""Bounded encodings, the memory estimate, Keras-safe names, and the kept-out columns' keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from driftloop.core.config import config_from_dict
from driftloop.core.errors import ConfigError, TrainingError
from driftloop.models.build import vocabulary
from driftloop.models.memory import estimate_training_memory, require_memory_budget
from driftloop.models.names import input_names
from driftloop.models.serving import MISSING_CATEGORY, frame_to_inputs


def test_the_vocabulary_keeps_the_most_frequent_values_and_never_the_oov_token() -> None:
    values = pd.Series(["b"] * 5 + ["a"] * 5 + ["c"] * 3 + ["[UNK]"] * 9 + ["d", None])
    assert vocabulary(values, 2) == [MISSING_CATEGORY, "a", "b"]
    assert vocabulary(values, 100) == [MISSING_CATEGORY, "a", "b", "c", "d"]


def test_a_50000_level_column_is_estimated_at_its_capped_width() -> None:
    frame = pd.DataFrame({"x": np.zeros(50_000), "c": [f"v{i}" for i in range(50_000)], "y": 0})
    frame.loc[::2, "y"] = 1
    capped = estimate_training_memory(frame, ["x"], ["c"], "y", "classification", [32, 16], 1000)
    assert (capped.encoded_width, capped.parameters) == (1003, (1004 * 32) + (33 * 16) + (17 * 2))
    require_memory_budget(capped, 2048)
    wide = estimate_training_memory(frame, ["x"], ["c"], "y", "classification", [32, 16], 10**6)
    assert wide.encoded_width == 50_003
    with pytest.raises(TrainingError, match=r"Widest categorical features: 'c' \(50002 one-hot"):
        require_memory_budget(wide, 256)


def test_any_column_name_gets_a_unique_keras_safe_name() -> None:
    cols = ["Unnamed: 0", "price (€)", "2nd-reading", "A", "a", "x" * 200, "名前", ""]
    names = input_names(cols)
    assert list(names.values()) == [
        "f0_Unnamed_0",
        "f1_price",
        "f2_2nd_reading",
        "f3_A",
        "f4_a",
        "f5_" + "x" * 40,
        "f6",
        "f7",
    ]


def test_served_inputs_of_an_old_model_keep_the_raw_column_names() -> None:
    old = {"numeric": ["x y"], "categorical": [], "numeric_fill": {"x y": 0.0}}
    assert list(frame_to_inputs(pd.DataFrame({"x y": [1.0]}), old)) == ["x y"]
    new = {**old, "input_names": {"x y": "f0_x_y"}}
    assert list(frame_to_inputs(pd.DataFrame({"x y": [1.0]}), new)) == ["f0_x_y"]


def test_id_and_time_columns_must_not_be_features_or_the_target() -> None:
    base = {"features": {"numeric": ["a"]}}
    with pytest.raises(ConfigError, match=r"\[model\] id_column 'a' is also a feature"):
        config_from_dict({**base, "model": {"target": "y", "id_column": "a"}})
    with pytest.raises(ConfigError, match=r"\[model\] time_column 'y' is also the target"):
        config_from_dict({**base, "model": {"target": "y", "time_column": "y"}})
    cfg = config_from_dict(
        {**base, "model": {"target": "y", "id_column": "id", "time_column": "t"}}
    )
    assert (cfg.model.id_column, cfg.model.time_column) == ("id", "t")
