"""Path and store settings are checked at start: one line naming the setting and the fix."""

from __future__ import annotations

from pathlib import Path

from driftloop.core.config import config_from_dict
from tests.helpers import cli

BASE = '[model]\nname = "m"\ntarget = "label"\n[features]\nnumeric = ["x1"]\n'


def _config(tmp_path: Path, work: str) -> Path:
    path = tmp_path / "driftloop.toml"
    path.write_text(f'work_dir = "{work}"\n' + BASE, encoding="utf-8")
    return path


def test_a_work_dir_that_is_a_file_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a folder", encoding="utf-8")
    config = _config(tmp_path, "taken")
    for verb in ("run", "status", "bootstrap"):
        extra = ["--data", str(tmp_path / "taken")] if verb == "bootstrap" else []
        res = cli(verb, "--config", str(config), *extra)
        assert res.code == 2, res.err
        assert res.err == (
            f"driftloop {verb}: error: work_dir = {tmp_path / 'taken'} (from {config}): "
            "work_dir is a file, not a folder; point work_dir at a folder (it is created if "
            "missing) or move that file away.\n"
        )


def test_a_work_dir_under_a_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("not a folder", encoding="utf-8")
    config = _config(tmp_path, "taken/work")
    res = cli("status", "--config", str(config))
    assert res.code == 2
    assert f"work_dir's parent {tmp_path / 'taken'} is a file, not a folder" in res.err


def test_a_corrupt_tracking_database_is_named_before_mlflow_opens_it(tmp_path: Path) -> None:
    config = _config(tmp_path, "work")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "mlflow.db").write_bytes(b"garbage" * 100)
    res = cli("status", "--config", str(config))
    assert res.code == 2
    assert res.err.startswith(
        f"driftloop status: error: the MLflow tracking database {tmp_path / 'work' / 'mlflow.db'} "
        "cannot be read (DatabaseError: file is not a database); restore it from a backup"
    )
    cfg = config_from_dict({"work_dir": str(tmp_path / "fresh"), **_base()}, None)
    cfg.ensure_dirs()
    assert (tmp_path / "fresh" / "landing").is_dir()


def _base() -> dict[str, object]:
    return {"model": {"name": "m", "target": "label"}, "features": {"numeric": ["x1"]}}
