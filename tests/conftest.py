"""Shared fixtures: an isolated Prefect home per test process, and tiny seeded projects."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import TINY_SETTINGS, Project, make_project


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A fresh driftloop.toml with tiny training settings, bootstrap data written, no model yet."""
    return make_project(tmp_path, TINY_SETTINGS)


@pytest.fixture
def chdir_tmp(tmp_path: Path) -> Iterator[Path]:
    """Run the test from inside tmp_path."""
    old = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(old)
