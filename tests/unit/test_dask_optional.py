"""The Dask extra is optional: imported only when configured, with the install line if absent."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from driftloop.core.config import config_from_dict
from driftloop.core.errors import ConfigError
from driftloop.flows.dask import INSTALL, dask_task_runner, drift_executor

BASE = {"model": {"target": "y"}, "features": {"numeric": ["a"]}}


def test_missing_prefect_dask_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = config_from_dict({**BASE, "prefect": {"task_runner": "dask"}}, Path("c.toml"))
    monkeypatch.setitem(sys.modules, "prefect_dask", None)  # as if not installed
    with pytest.raises(ConfigError, match=r"needs the prefect-dask package") as err:
        dask_task_runner(cfg)
    assert INSTALL in str(err.value) and "driftloop[dask]" in INSTALL


def test_only_large_batches_with_dask_on_are_spread() -> None:
    on = config_from_dict(
        {**BASE, "prefect": {"task_runner": "dask", "dask_min_rows": 1000}}, Path("c.toml")
    )
    off = config_from_dict(BASE, Path("c.toml"))
    assert drift_executor(on, 999) is None
    assert drift_executor(on, 1000) is not None
    assert drift_executor(off, 10**9) is None


def test_flows_do_not_import_dask() -> None:
    code = "import sys, flows.service; print(sorted({'prefect_dask', 'dask'} & {*sys.modules}))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
