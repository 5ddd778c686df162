"""`driftloop init`'s role inference on the columns real exports carry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftloop.app.roles import Overrides, Role, infer_roles, infer_task
from driftloop.core.config import load_config
from driftloop.core.errors import ConfigError
from driftloop.ingest.head import read_head
from tests.helpers import cli


def _export(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, rows)
    return pd.DataFrame(
        {
            "Unnamed: 0": np.arange(rows),
            "customer id": rng.permutation(rows) + 10_000,
            "timestamp": pd.date_range("2024-03-01", periods=rows, freq="min").astype(str),
            "age (years)": rng.normal(40, 9, rows),
            "city": rng.choice(["Oslo", "Lima", "Pune"], rows),
            "session": [f"s-{i:05d}" for i in rng.permutation(rows)],
            "zip": rng.choice([f"z{i}" for i in range(90)], rows),
            "const": 1.0,
            "y_pred": y,
            "y_pred_proba": rng.random(rows),
            "label copy": np.where(y == 1, "yes", "no"),
            "mostly numbers": [*(str(v) for v in range(rows - 3)), "n/a", "?", "-"],
            "label": y.astype("float64"),
        }
    )


def test_each_exported_column_gets_its_role_and_reason() -> None:
    plan = infer_roles(_export(), "label")
    got = {r.column: (r.role, r.reason) for r in plan.roles}
    assert got == {
        "Unnamed: 0": (Role.EXCLUDED, "a saved row index (as pandas writes 'Unnamed: 0')"),
        "customer id": (Role.EXCLUDED, "row identifier: a distinct whole number per row"),
        "timestamp": (Role.EXCLUDED, "date/time"),
        "age (years)": (Role.NUMERIC, "numbers"),
        "city": (Role.CATEGORICAL, "text, 3 levels"),
        "session": (Role.EXCLUDED, "row identifier: a distinct text value per row"),
        "zip": (Role.EXCLUDED, "too many levels to learn from (79 in 200 rows)"),
        "const": (Role.EXCLUDED, "constant (1 distinct value)"),
        "y_pred": (Role.EXCLUDED, "likely leakage: named like a model's output"),
        "y_pred_proba": (Role.EXCLUDED, "likely leakage: named like a model's output"),
        "label copy": (
            Role.EXCLUDED,
            "likely leakage: its values give the target for 100.0% of rows",
        ),
        "mostly numbers": (Role.REVIEW, "numbers, but 3 value(s) are text"),
    }
    assert (plan.task, plan.id_column, plan.time_column) == (
        "classification",
        "customer id",
        "timestamp",
    )
    assert plan.columns(Role.NUMERIC) == ["age (years)"]
    assert plan.columns(Role.CATEGORICAL) == ["city"]


def test_the_flags_win_over_the_guesses() -> None:
    over = Overrides(
        exclude=frozenset({"city"}),
        include=frozenset({"zip", "mostly numbers"}),
        task="classification",
        id_column="session",
        time_column="timestamp",
    )
    plan = infer_roles(_export(), "label", over)
    got = {r.column: r for r in plan.roles}
    assert got["city"].reason == "excluded by --exclude"
    assert got["zip"].role is Role.CATEGORICAL
    assert (
        got["zip"].reason
        == "--include (the guess was: too many levels to learn from (79 in 200 rows))"
    )
    assert got["mostly numbers"].role is Role.CATEGORICAL
    assert got["session"].reason == "row identifier (--id-column)"
    assert (plan.id_column, plan.time_column, plan.task_reason) == (
        "session",
        "timestamp",
        "set by --task",
    )


def test_flags_naming_missing_or_conflicting_columns_are_one_clear_error() -> None:
    frame = _export()
    with pytest.raises(
        ConfigError, match=r"^--exclude names column\(s\) \['nope'\] that the sample"
    ):
        infer_roles(frame, "label", Overrides(exclude=frozenset({"nope"})))
    with pytest.raises(ConfigError, match=r"\['city'\] are in both --exclude and --include"):
        infer_roles(
            frame, "label", Overrides(exclude=frozenset({"city"}), include=frozenset({"city"}))
        )
    with pytest.raises(ConfigError, match=r"no column 'target'; pass --target with one of"):
        infer_roles(frame, "target")
    with pytest.raises(ConfigError, match=r"no column of the sample can be a feature"):
        infer_roles(frame[["Unnamed: 0", "y_pred", "label"]], "label")


@pytest.mark.parametrize(
    ("values", "task"),
    [
        ([1.0, 0.0, 1.0, 0.0], "classification"),
        (["cat", "dog", "cat", "emu"], "classification"),
        ([True, False, True, False], "classification"),
        (list(range(21)), "regression"),
        ([0.5, 1.25, 3.0, 2.0], "regression"),
    ],
)
def test_the_task_follows_the_stated_rule(values: list[object], task: str) -> None:
    assert infer_task(pd.Series(values))[0] == task


def test_a_continuous_target_makes_a_regression_and_a_copy_of_it_is_leakage() -> None:
    rng = np.random.default_rng(1)
    y = rng.normal(100, 20, 300)
    frame = pd.DataFrame({"x": rng.normal(size=300), "y_scaled": y * 2.5 + 1, "y": y})
    plan = infer_roles(frame, "y")
    assert (plan.task, plan.task_reason) == (
        "regression",
        "the target holds 300 distinct numbers with fractions",
    )
    assert [(r.column, r.role.value) for r in plan.roles] == [
        ("x", "numeric"),
        ("y_scaled", "excluded"),
    ]
    assert plan.roles[1].reason == "likely leakage: rank correlation 1.000 with the target"


def test_init_flags_reach_the_written_config(tmp_path: Path) -> None:
    data = tmp_path / "export.csv"
    _export().to_csv(data, index=False)
    res = cli(
        "init",
        "--data",
        str(data),
        "--target",
        "label",
        "--dir",
        str(tmp_path),
        "--exclude",
        "city",
        "--include",
        "zip",
        "--id-column",
        "session",
        "--task",
        "classification",
    )
    assert res.code == 0, res.err
    cfg = load_config(tmp_path / "driftloop.toml")
    assert (cfg.features.numeric, cfg.features.categorical) == (["age (years)"], ["zip"])
    assert (cfg.model.id_column, cfg.model.time_column) == ("session", "timestamp")
    assert "review: ['mostly numbers'] are excluded because their role is unclear" in res.out
    text = (tmp_path / "driftloop.toml").read_text(encoding="utf-8")
    assert '#   "city"            excluded     excluded by --exclude' in text


def test_init_reads_only_the_head_of_a_big_file(tmp_path: Path) -> None:
    data = tmp_path / "big.csv"
    rows = 200_000
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=rows), "y": rng.integers(0, 2, rows)})
    frame.to_csv(data, index=False)
    with data.open("a", encoding="utf-8") as fh:
        fh.write("1.0,0,an extra field far past the head\n")  # read_table would fail here
    head = read_head(data, max_rows=1000, block_mib=1)
    assert (len(head), list(head.columns)) == (1000, ["x", "y"])
    np.testing.assert_allclose(head["x"].to_numpy(), frame["x"].head(1000).to_numpy())
