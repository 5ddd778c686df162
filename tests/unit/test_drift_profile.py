"""Unit tests for drift.profile: building, validating and serialising reference profiles."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from driftloop.drift import (
    DriftError,
    ProfileError,
    ReferenceProfile,
    build_profile,
    load_profile,
    save_profile,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            "age": rng.normal(40.0, 10.0, size=300),
            "income": rng.lognormal(10.0, 1.0, size=300),
            "city": rng.choice(["paris", "lyon", "nice"], size=300),
            "plan": rng.choice([1, 2], size=300),
            "unused": np.arange(300),
        }
    )


def test_build_profile_keeps_whole_column_sorted_and_counts(frame: pd.DataFrame) -> None:
    profile = build_profile(frame, numeric=["income", "age"], categorical=["city", "plan"])
    assert profile.numeric_features == ["income", "age"]
    assert profile.categorical_features == ["city", "plan"]
    assert profile.n_rows == 300
    np.testing.assert_array_equal(profile.numeric["age"], np.sort(frame["age"].to_numpy()))
    assert profile.numeric["age"].dtype == np.float64
    assert profile.numeric_missing == {"income": (0, 300), "age": (0, 300)}
    assert profile.categorical["city"] == frame["city"].value_counts().sort_index().to_dict()
    assert set(profile.categorical["plan"]) == {"1", "2"}
    assert sum(profile.categorical["plan"].values()) == 300


def test_missing_values_are_counted_and_excluded() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.0, np.nan, np.inf, -np.inf, None, 2.0],
            "c": [1, "1", None, np.nan, "b", "b"],
        }
    )
    profile = build_profile(frame, numeric=["x"], categorical=["c"])
    assert profile.numeric["x"].tolist() == [1.0, 2.0]
    assert profile.numeric_missing["x"] == (4, 6)
    assert profile.categorical["c"] == {"1": 2, "__missing__": 2, "b": 2}


def test_nullable_integer_column_is_numeric() -> None:
    frame = pd.DataFrame({"n": pd.array([3, None, 1], dtype="Int64")})
    profile = build_profile(frame, numeric=["n"], categorical=[])
    assert profile.numeric["n"].tolist() == [1.0, 3.0]
    assert profile.numeric_missing["n"] == (1, 3)


def test_subsample_is_capped_sorted_and_drawn_from_the_column() -> None:
    values = np.random.default_rng(3).normal(size=1_000)
    frame = pd.DataFrame({"x": values})
    profile = build_profile(frame, numeric=["x"], categorical=[], max_values=100, seed=11)
    sample = profile.numeric["x"]
    assert sample.shape == (100,)
    assert np.all(np.diff(sample) >= 0)
    assert np.unique(sample).size == 100  # drawn without replacement
    assert np.isin(sample, values).all()
    assert profile.numeric_missing["x"] == (0, 1_000)


def test_subsample_is_deterministic_for_a_seed() -> None:
    frame = pd.DataFrame({"x": np.arange(5_000, dtype=float)})
    first = build_profile(frame, ["x"], [], max_values=50, seed=5).numeric["x"]
    again = build_profile(frame, ["x"], [], max_values=50, seed=5).numeric["x"]
    other = build_profile(frame, ["x"], [], max_values=50, seed=6).numeric["x"]
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_column_at_the_cap_is_kept_whole() -> None:
    frame = pd.DataFrame({"x": [5.0, 3.0, 4.0, np.nan]})
    profile = build_profile(frame, ["x"], [], max_values=3)
    assert profile.numeric["x"].tolist() == [3.0, 4.0, 5.0]


def test_profile_arrays_are_read_only(frame: pd.DataFrame) -> None:
    profile = build_profile(frame, numeric=["age"], categorical=[])
    with pytest.raises(ValueError):
        profile.numeric["age"][0] = 0.0


def test_dict_round_trip_is_exact_and_json_serialisable(frame: pd.DataFrame) -> None:
    profile = build_profile(frame, numeric=["age", "income"], categorical=["city", "plan"])
    data = profile.to_dict()
    assert data["schema_version"] == 2
    restored = ReferenceProfile.from_dict(json.loads(json.dumps(data, allow_nan=False)))
    assert restored == profile
    assert restored.numeric_features == ["age", "income"]
    assert restored.categorical_features == ["city", "plan"]


def test_save_and_load_round_trip(frame: pd.DataFrame, tmp_path) -> None:
    profile = build_profile(frame, numeric=["age"], categorical=["city"])
    path = tmp_path / "nested" / "profile.json"
    save_profile(profile, path)
    assert load_profile(path) == profile
    assert load_profile(str(path)) == profile


def test_profiles_with_different_values_are_not_equal(frame: pd.DataFrame) -> None:
    one = build_profile(frame, numeric=["age"], categorical=["city"])
    two = build_profile(frame.iloc[:-1], numeric=["age"], categorical=["city"])
    assert one != two


def test_missing_column_error_names_the_column(frame: pd.DataFrame) -> None:
    with pytest.raises(ProfileError, match="'height'"):
        build_profile(frame, numeric=["age", "height"], categorical=["city"])
    with pytest.raises(ProfileError, match="'region'"):
        build_profile(frame, numeric=["age"], categorical=["region"])


def test_numeric_column_without_finite_values_is_rejected() -> None:
    frame = pd.DataFrame({"ok": [1.0, 2.0], "empty": [np.nan, np.inf]})
    with pytest.raises(ProfileError, match="'empty'.*no finite value"):
        build_profile(frame, numeric=["ok", "empty"], categorical=[])


def test_non_numeric_numeric_column_is_rejected_with_the_fix() -> None:
    frame = pd.DataFrame({"code": ["a1", "b2"]})
    with pytest.raises(ProfileError, match="'code'.*categorical"):
        build_profile(frame, numeric=["code"], categorical=[])


def test_feature_listed_twice_is_rejected(frame: pd.DataFrame) -> None:
    with pytest.raises(ProfileError, match="'age'"):
        build_profile(frame, numeric=["age"], categorical=["age"])


@pytest.mark.parametrize("max_values", [0, -1, 2.5])
def test_invalid_max_values_is_rejected(frame: pd.DataFrame, max_values) -> None:
    with pytest.raises(ProfileError, match="max_values"):
        build_profile(frame, ["age"], [], max_values=max_values)


def test_empty_frame_is_rejected() -> None:
    with pytest.raises(ProfileError, match="no rows"):
        build_profile(pd.DataFrame({"c": []}), numeric=[], categorical=["c"])


def _valid_dict() -> dict:
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan], "c": ["a", "b", "a"]})
    return build_profile(frame, ["x"], ["c"]).to_dict()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(schema_version=3), "schema_version"),
        (lambda d: d.pop("numeric"), "numeric"),
        (lambda d: d.update(n_rows=-1), "n_rows"),
        (lambda d: d["numeric"][0].update(values=[]), "'x'"),
        (lambda d: d["numeric"][0].update(values=["1.0"]), "'x'"),
        (lambda d: d["numeric"][0].update(missing=5), "'x'"),
        (lambda d: d["numeric"][0].pop("total"), "keys"),
        (lambda d: d["categorical"][0]["counts"].update(a=-3), "'c'"),
        (lambda d: d["categorical"][0].update(counts=[1, 2]), "'c'"),
        (lambda d: d["categorical"].append({"feature": "x", "counts": {}}), "'x'"),
    ],
)
def test_from_dict_rejects_malformed_input(mutate, message: str) -> None:
    data = _valid_dict()
    mutate(data)
    with pytest.raises(ProfileError, match=message):
        ReferenceProfile.from_dict(data)


def test_from_dict_rejects_non_mapping() -> None:
    with pytest.raises(ProfileError, match="mapping"):
        ReferenceProfile.from_dict([1, 2])  # type: ignore[arg-type]


def test_load_profile_errors_are_profile_errors(tmp_path) -> None:
    with pytest.raises(ProfileError, match="no profile file"):
        load_profile(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ProfileError, match="cannot read"):
        load_profile(bad)
    assert issubclass(ProfileError, DriftError)


def test_joint_sample_keeps_the_complete_rows_drawn_from_the_whole_matrix() -> None:
    from driftloop.drift.profile_rows import joint_sample

    rng = np.random.default_rng(21)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=3_000) for i in range(4)})
    frame.loc[rng.choice(3_000, size=400, replace=False), "x2"] = np.nan
    frame.loc[rng.choice(3_000, size=100, replace=False), "x0"] = np.inf
    names = list(frame.columns)
    matrix = frame[names].to_numpy()
    complete = matrix[np.all(np.isfinite(matrix), axis=1)]
    expected = complete[np.sort(np.random.default_rng(8).choice(len(complete), 500, False))]
    got = joint_sample(frame, names, 500, np.random.default_rng(8))
    assert got is not None
    np.testing.assert_array_equal(got, expected)
    whole = joint_sample(frame, names, 10_000, np.random.default_rng(8))
    assert whole is not None
    np.testing.assert_array_equal(whole, complete)
