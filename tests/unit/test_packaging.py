"""One installed name: the wheel holds the single top-level package `driftloop`, and a regular
(non-editable) install works from a folder that has its own `models/` and `flows/` packages."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built from the checkout, as `pip wheel --no-deps .` builds it."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (found,) = out.glob("driftloop-*.whl")
    return found


def test_the_wheel_holds_one_top_level_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"driftloop"}
    for stage in ("drift/detect.py", "models/challenger.py", "flows/monitor.py"):
        assert f"driftloop/{stage}" in names
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert zipfile.ZipFile(wheel).read(top_level).decode().split() == ["driftloop"]


def test_a_regular_install_is_not_shadowed_by_a_users_own_models_and_flows(
    wheel: Path, tmp_path: Path
) -> None:
    target = tmp_path / "site"
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "-q"]
    subprocess.run(
        [*pip, "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    work = tmp_path / "user-project"
    for own in ("models", "flows", "drift"):
        (work / own).mkdir(parents=True)
        (work / own / "__init__.py").write_text(f"raise ImportError('the user\\'s own {own}')\n")
    env = {**os.environ, "PYTHONPATH": str(target)}
    script = target / "bin" / "driftloop"
    help_out = subprocess.run(
        [sys.executable, str(script), "--help"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert help_out.returncode == 0, help_out.stderr
    assert "usage: driftloop" in help_out.stdout
    probe = (
        "import sys, driftloop.flows.monitor, driftloop.models.registry; "
        "print(sys.modules['driftloop.flows.monitor'].__file__); "
        "print(sys.modules['driftloop.models.registry'].__file__)"
    )
    flow = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert flow.returncode == 0, flow.stderr
    files = flow.stdout.split()
    assert files == [
        str(target / "driftloop" / "flows" / "monitor.py"),
        str(target / "driftloop" / "models" / "registry.py"),
    ]
