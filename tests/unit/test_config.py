"""The config: found in one order, validated once, errors naming the key and the fix."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from driftloop.app.scaffold import TEMPLATE, write_config
from driftloop.core.config import Config, config_from_dict, find_config, load_config
from driftloop.core.config_sections import (
    DriftSection,
    FinetuneSection,
    GateSection,
    IngestSection,
    PrefectSection,
    TrackingSection,
    TrainingSection,
)
from driftloop.core.errors import ConfigError

BASE = {"model": {"target": "y"}, "features": {"numeric": ["a"], "categorical": ["b"]}}


def test_defaults_and_derived_paths(tmp_path: Path) -> None:
    cfg = config_from_dict(BASE, tmp_path / "driftloop.toml")
    assert cfg.work_dir == (tmp_path / "driftloop-work").resolve()
    assert cfg.landing_dir == cfg.work_dir / "landing"
    assert cfg.mlflow_uri == f"sqlite:///{cfg.work_dir / 'mlflow.db'}"
    assert cfg.artifact_location == (cfg.work_dir / "mlartifacts").as_uri()
    assert cfg.drift.alpha == 0.05 and cfg.drift.correction == "holm"
    assert cfg.features.all == ["a", "b"]


def test_tracking_uri_overrides_embedded_store(tmp_path: Path) -> None:
    cfg = config_from_dict(
        {
            **BASE,
            "tracking": {"tracking_uri": "http://127.0.0.1:5000"},
            "ingest": {"ledger_url": "sqlite:///state/ledger.db"},
        },
        tmp_path / "c.toml",
    )
    assert cfg.mlflow_uri == "http://127.0.0.1:5000"
    assert cfg.artifact_location is None
    assert cfg.ledger_url == f"sqlite:///{tmp_path.resolve() / 'state' / 'ledger.db'}"


def test_ledger_shares_the_mlflow_database_by_default(tmp_path: Path) -> None:
    cfg = config_from_dict(BASE, tmp_path / "driftloop.toml")
    assert cfg.ledger_url == cfg.mlflow_uri == f"sqlite:///{cfg.work_dir / 'mlflow.db'}"
    pg = "postgresql://postgres@127.0.0.1:5432/mlflow"
    cfg = config_from_dict({**BASE, "tracking": {"tracking_uri": pg}}, tmp_path / "c.toml")
    assert cfg.ledger_url == pg


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        (
            {"tracking": {"tracking_uri": "https://mlflow.example.com"}},
            "[ingest] ledger_url is empty and [tracking] tracking_uri = "
            "'https://mlflow.example.com' is not a database",
        ),
        ({"ingest": {"ledger_url": "mysql://h/db"}}, "[ingest] ledger_url = 'mysql://h/db' is not"),
        ({"ingest": {"ledger_url": "ledger.db"}}, "[ingest] ledger_url = 'ledger.db' is not"),
    ],
)
def test_ledger_needs_a_database_it_can_write(tmp_path: Path, patch: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        config_from_dict({**BASE, **patch}, tmp_path / "driftloop.toml")
    assert expected in str(err.value)
    assert "sqlite:///" in str(err.value) and "postgresql://" in str(err.value)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"drift": {"alpha": 1.5}}, "[drift] alpha: Input should be less than 1 (got 1.5)"),
        ({"drift": {"alpah": 0.1}}, "[drift] alpah: unknown key"),
        ({"model": {}}, "[model] target: required key is missing; add it"),
        ({"features": {"numeric": []}}, "no feature listed"),
        ({"features": {"numeric": ["a", "a"]}}, "columns listed more than once: ['a']"),
        ({"features": {"numeric": ["y"]}}, "target column 'y' is also listed as a feature"),
        ({"drift": {"correction": "sidak"}}, "[drift] correction: Input should be"),
    ],
)
def test_invalid_config_names_key(tmp_path: Path, patch: dict, expected: str) -> None:
    data = {**BASE, **patch}
    with pytest.raises(ConfigError) as err:
        config_from_dict(data, tmp_path / "driftloop.toml")
    assert expected in str(err.value)
    assert str(tmp_path / "driftloop.toml") in str(err.value)


def test_find_order_argument_env_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = (tmp_path / n for n in ("a.toml", "b.toml", "driftloop.toml"))
    for p in (a, b, c):
        p.write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DRIFTLOOP_CONFIG", str(b))
    assert find_config(a) == a
    assert find_config() == b
    monkeypatch.delenv("DRIFTLOOP_CONFIG")
    assert find_config() == tmp_path / "driftloop.toml"


def test_missing_config_says_how_to_create_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="driftloop init --data FILE --target COLUMN"):
        load_config()
    monkeypatch.setenv("DRIFTLOOP_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match=r"nope.toml \(taken from \$DRIFTLOOP_CONFIG\)"):
        load_config()


def test_bad_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "driftloop.toml"
    path.write_text("work_dir = [unclosed")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load_config(path)


def test_template_states_every_default() -> None:
    """driftloop init writes every setting at its default: the template must not drift."""
    text = TEMPLATE.format(
        sample="s.csv",
        work_dir='"driftloop-work"',
        name='"m"',
        target='"y"',
        rows="",
        task='"classification"',
        task_reason="two classes",
        task_rule="a rule",
        id_column='""',
        time_column='""',
        roles='#   "a"  numeric  numbers',
        numeric='["a"]',
        categorical="[]",
    )
    data = tomllib.loads(text)
    sections = {
        "ingest": IngestSection(),
        "drift": DriftSection(),
        "training": TrainingSection(),
        "finetune": FinetuneSection(),
        "gate": GateSection(),
        "tracking": TrackingSection(),
        "prefect": PrefectSection(),
    }
    for key, default in sections.items():
        assert data[key] == default.model_dump(), key
    assert set(data) == set(Config.model_fields) - {"source"}


def test_init_infers_schema_and_refuses_to_overwrite(tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "n": [0.5 * i for i in range(20)],
            "i": [i % 7 for i in range(20)],
            "s": list("aabbc") * 4,
            "flag": [True, False, False, True] * 5,
            "y": [0, 1] * 10,
        }
    )
    data = tmp_path / "sample.parquet"
    frame.to_parquet(data)
    path = write_config(data, "y", "m", tmp_path)
    cfg = load_config(path)
    assert cfg.features.numeric == ["n", "i"]
    assert cfg.features.categorical == ["s", "flag"]
    assert cfg.model.name == "m"
    with pytest.raises(ConfigError, match="already exists"):
        write_config(data, "y", "m", tmp_path)
    with pytest.raises(ConfigError, match=r"no column 'label'; pass --target with one of"):
        write_config(data, "label", "m", tmp_path, overwrite=True)


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"ingest": {"not_null": ["x9"]}}, "[ingest] not_null names column(s) ['x9'] that are not"),
        (
            {"ingest": {"categories": {"a": ["u"]}}},
            "[ingest] categories names column(s) ['a'] that are not categorical features ['b']",
        ),
        (
            {"ingest": {"ranges": {"b": [0, 1]}}},
            "[ingest] ranges names column(s) ['b'] that are not numeric features ['a']",
        ),
        ({"ingest": {"settle_seconds": float("inf")}}, "[ingest] settle_seconds: Input should"),
        ({"drift": {"effect_size_floor": float("inf")}}, "[drift] effect_size_floor: Input"),
        ({"drift": {"alpha": float("nan")}}, "[drift] alpha: Input should be a finite number"),
        (
            {"ingest": {"max_attempts": True}},
            "max_attempts must be a number, not true; write a number without quotes",
        ),
        (
            {"training": {"hidden_units": [True, 4]}},
            "hidden_units must be a number, not [true, 4]",
        ),
        (
            {"features": {"numeric": ["a", ""], "categorical": ["b"]}},
            "[features] numeric.1: String should have at least 1 character",
        ),
        ({"features": {"numeric": ["   "]}}, "[features] numeric.0: String should match"),
        ({"model": {"target": " "}}, "[model] target: String should match pattern"),
        (
            {"training": {"hidden_units": [-4]}},
            "[training] hidden_units.0: Input should be greater than or equal to 1 (got -4)",
        ),
        (
            {"training": {"hidden_units": [8, 0]}},
            "[training] hidden_units.1: Input should be greater than or equal to 1 (got 0)",
        ),
        ({"training": {"hidden_units": [10**9]}}, "hidden_units.0: Input should be less than"),
        ({"model": {"name": "team/model"}}, "[model] name: String should match pattern"),
        ({"model": {"name": "a model"}}, "[model] name: String should match pattern"),
        ({"ingest": {"lock_wait_seconds": -1}}, "[ingest] lock_wait_seconds: Input should be"),
    ],
)
def test_holes_in_columns_and_numbers_are_refused_at_load(
    tmp_path: Path, patch: dict[str, dict[str, object]], expected: str
) -> None:
    data = {k: dict(v) for k, v in BASE.items()}
    for section, values in patch.items():
        data[section] = {**data.get(section, {}), **values}
    with pytest.raises(ConfigError) as err:
        config_from_dict(data, tmp_path / "driftloop.toml")
    assert expected in str(err.value)
    assert str(err.value).count("\n") == 1  # one line for the one problem


def test_numbers_from_the_environment_are_still_read_as_numbers(tmp_path: Path) -> None:
    cfg = config_from_dict(
        {**BASE, "ingest": {"max_attempts": "4", "lock_wait_seconds": "2.5"}},
        tmp_path / "driftloop.toml",
    )
    assert (cfg.ingest.max_attempts, cfg.ingest.lock_wait_seconds) == (4, 2.5)
