"""The environment layer of the config: DRIFTLOOP_<SECTION>__<KEY> over the file, or alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from driftloop.core.config import Config, load_config
from driftloop.core.config_env import env_name, env_overrides, setting_names
from driftloop.core.errors import ConfigError

FILE = """
work_dir = "work"
[model]
target = "y"
[features]
numeric = ["a"]
[prefect]
monitor_cron = "*/5 * * * *"
"""


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No DRIFTLOOP_* variable from the outside, and a folder without driftloop.toml."""
    import os

    for var in list(os.environ):
        if var.startswith("DRIFTLOOP_"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_variables_override_the_file(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "driftloop.toml"
    path.write_text(FILE, encoding="utf-8")
    clean_env.setenv("DRIFTLOOP_TRACKING__TRACKING_URI", "http://mlflow:5000")
    clean_env.setenv("DRIFTLOOP_PREFECT__MONITOR_CRON", "")
    clean_env.setenv("DRIFTLOOP_PREFECT__MONITOR_INTERVAL_SECONDS", "30")
    clean_env.setenv("DRIFTLOOP_FEATURES__CATEGORICAL", '["b", "c"]')
    clean_env.setenv("DRIFTLOOP_FINETUNE__TENSORBOARD", "false")
    # A tracking server over HTTP: the ledger needs its own database URL.
    clean_env.setenv("DRIFTLOOP_INGEST__LEDGER_URL", "postgresql://u@db:5432/mlflow")
    cfg = load_config(path)
    assert cfg.tracking.tracking_uri == "http://mlflow:5000"
    assert (cfg.prefect.monitor_cron, cfg.prefect.monitor_interval_seconds) == ("", 30.0)
    assert cfg.features.numeric == ["a"] and cfg.features.categorical == ["b", "c"]
    assert cfg.finetune.tensorboard is False
    assert cfg.ledger_url == "postgresql://u@db:5432/mlflow"
    assert cfg.work_dir == (tmp_path / "work").resolve()


def test_environment_alone_makes_a_config(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("DRIFTLOOP_WORK_DIR", "/srv/driftloop")
    clean_env.setenv("DRIFTLOOP_MODEL__TARGET", "label")
    clean_env.setenv("DRIFTLOOP_MODEL__NAME", "churn")
    clean_env.setenv("DRIFTLOOP_FEATURES__NUMERIC", '["x1", "x2"]')
    clean_env.setenv("DRIFTLOOP_PREFECT__RETRAIN", "event")
    cfg = load_config()
    assert cfg.source is None and cfg.work_dir == Path("/srv/driftloop")
    assert (cfg.model.name, cfg.model.target, cfg.prefect.retrain) == ("churn", "label", "event")


def test_no_file_and_no_variables_is_the_old_error(clean_env: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="no config file at"):
        load_config()


@pytest.mark.parametrize(
    ("var", "value", "expected"),
    [
        ("DRIFTLOOP_TRACKNG__TRACKING_URI", "x", r"no section \[trackng\]"),
        ("DRIFTLOOP_TRACKING__URI", "x", r"section \[tracking\] has no such key"),
        ("DRIFTLOOP_FEATURES__NUMERIC", "[a, b", "is not valid JSON"),
        (
            "DRIFTLOOP_PREFECT__IO_RETRIES",
            "many",
            r"DRIFTLOOP_PREFECT__IO_RETRIES.*\n.*\[prefect\] io_retries: Input should be",
        ),
        ("DRIFTLOOP_PREFECT__RETRAIN", "later", r"\[prefect\] retrain: Input should be"),
    ],
)
def test_bad_variables_are_named(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, var: str, value: str, expected: str
) -> None:
    path = tmp_path / "driftloop.toml"
    path.write_text(FILE, encoding="utf-8")
    clean_env.setenv(var, value)
    with pytest.raises(ConfigError, match=expected):
        load_config(path)


def test_both_schedules_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "driftloop.toml"
    path.write_text(FILE, encoding="utf-8")
    clean_env.setenv("DRIFTLOOP_PREFECT__MONITOR_INTERVAL_SECONDS", "60")
    with pytest.raises(ConfigError, match="monitor_cron or monitor_interval_seconds, not both"):
        load_config(path)


def test_every_setting_has_one_variable() -> None:
    names = setting_names(Config)
    assert env_name("tracking", "tracking_uri") == "DRIFTLOOP_TRACKING__TRACKING_URI"
    assert names["DRIFTLOOP_WORK_DIR"] == (None, "work_dir")
    assert "DRIFTLOOP_SOURCE" not in names  # internal, not a setting
    sections = {s for s, _ in names.values() if s}
    assert sections == set(Config.model_fields) - {"work_dir", "source"}
    per_section = sum(len(Config.model_fields[s].annotation.model_fields) for s in sections)  # type: ignore[union-attr]
    assert len(names) == per_section + 1
    # Other DRIFTLOOP_ variables without a section are not settings and are left alone.
    assert (
        env_overrides({"DRIFTLOOP_INGEST_KILL_AT": "moved", "DRIFTLOOP_CONFIG": "x"}, Config) == {}
    )
