"""Helpers for tests: tiny seeded projects on the demo stream, and calling the CLI in-process."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from driftloop.app.stream import TARGET, Stream, make_stream

# Small and fast, but enough for the model to learn the demo rule.
TINY_SETTINGS = """
[training]
hidden_units = [16]
epochs = 25
batch_size = 64
patience = 3
seed = 7

[finetune]
epochs = 15
replay_rows = 400
"""


@dataclass
class Project:
    """A test project: its folder, config file, and the seeded stream it draws batches from."""

    root: Path
    config: Path
    stream: Stream
    bootstrap_csv: Path

    @property
    def work(self) -> Path:
        """The work folder named by the config."""
        return self.root / "work"

    def drop(self, frame: pd.DataFrame, name: str) -> Path:
        """Put a batch file into the landing folder (CSV or Parquet by suffix)."""
        landing = self.work / "landing"
        landing.mkdir(parents=True, exist_ok=True)
        path = landing / name
        if name.endswith(".parquet"):
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
        return path


def make_project(root: Path, extra: str = "", rows: int = 600, seed: int = 3) -> Project:
    """Write a driftloop.toml for the demo stream's schema under root."""
    stream = make_stream(seed=seed, rows=rows)
    data = root / "bootstrap.csv"
    stream.bootstrap.to_csv(data, index=False)
    config = root / "driftloop.toml"
    config.write_text(
        f"""work_dir = "work"
[model]
name = "test-model"
target = "{TARGET}"
[features]
numeric = ["x1", "x2", "x3"]
categorical = ["c1", "c2"]
{extra}
""",
        encoding="utf-8",
    )
    return Project(root, config, stream, data)


@dataclass
class CliResult:
    """Exit code and captured streams of one in-process CLI call."""

    code: int
    out: str
    err: str

    def json_lines(self) -> list[dict[str, Any]]:
        """stdout parsed as one JSON object per line."""
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


def cli(*args: str) -> CliResult:
    """Run `driftloop ARGS` in this process, capturing stdout and stderr."""
    from driftloop.app.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(args))
    return CliResult(code, out.getvalue(), err.getvalue())
