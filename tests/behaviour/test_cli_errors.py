"""Common mistakes get one line on stderr naming the problem and the fix; the traceback with -v."""

from __future__ import annotations

import argparse
from pathlib import Path

from driftloop.core.config import load_config
from driftloop.flows import monitor
from driftloop.ingest import Ledger
from tests.helpers import Project, cli


def _one_line(err: str, prefix: str) -> str:
    """The single stderr line of an answered mistake (asserting there is nothing else)."""
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("driftloop ")]
    assert len(lines) == 1 and lines[0].startswith(prefix), err
    return lines[0]


def test_run_before_bootstrap_is_refused_without_an_attempt_or_a_move(project: Project) -> None:
    cfg = load_config(project.config)
    path = project.drop(project.stream.batches[0].frame, "early.csv")
    for _ in range(3):  # as often as max_attempts: still no attempt is counted
        res = cli("run", "--config", str(project.config))
        assert res.code == 2 and res.out == ""
        line = _one_line(res.err, "driftloop run: error: ")
        assert line == (
            f"driftloop run: error: model 'test-model' has no champion yet in {cfg.mlflow_uri}; "
            f"the 1 waiting batch(es) stay in {cfg.landing_dir} untouched (no attempt counted). "
            "Train the first model with `driftloop bootstrap --data FILE`, then run again."
        )
    ledger = Ledger(cfg.ledger_url)
    assert path.is_file() and ledger.recent() == [] and ledger.attempt(str(path)) is None
    # The monitor flow itself (as a served deployment runs it) refuses the same way.
    try:
        monitor(config_path=str(project.config))
    except Exception as err:
        assert type(err).__name__ == "RegistryError" and "has no champion yet" in str(err)
    else:
        raise AssertionError("the monitor flow ran batches without a champion")
    assert path.is_file() and ledger.recent() == [] and ledger.attempt(str(path)) is None


def test_verbs_before_bootstrap_say_what_to_do(project: Project) -> None:
    cfg_path = str(project.config)
    retrain = cli("retrain", "--config", cfg_path)
    assert retrain.code == 2
    assert "has no champion yet" in _one_line(retrain.err, "driftloop retrain: error: ")
    rollback = cli("rollback", "--config", cfg_path)
    assert rollback.code == 2
    assert _one_line(rollback.err, "driftloop rollback: error: ") == (
        "driftloop rollback: error: model 'test-model' has no champion yet, so there is nothing "
        "to roll back; nothing was changed. Train the first model with `driftloop bootstrap "
        "--data FILE`."
    )
    history = cli("history", "--config", cfg_path)
    assert history.code == 0 and "Traceback" not in history.err
    assert history.out.startswith("(model 'test-model' is not registered in ")


def test_a_wrong_data_path_or_target_names_it_and_the_fix(project: Project) -> None:
    cfg_path = str(project.config)
    res = cli("bootstrap", "--config", cfg_path, "--data", "no/such.csv")
    assert res.code == 2 and res.out == ""
    assert _one_line(res.err, "driftloop bootstrap: error: ") == (
        f"driftloop bootstrap: error: --data no/such.csv: no such file (looked in "
        f"{Path.cwd() / 'no'}); give the path of labelled training data (CSV, Parquet or "
        "JSON Lines)."
    )
    init = cli("init", "--data", str(project.root), "--target", "label")
    assert init.code == 2
    assert f"--data {project.root}: is a folder, not a file" in _one_line(
        init.err, "driftloop init: error: "
    )
    project.config.write_text(project.config.read_text().replace('"label"', '"lable"'))
    typo = cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv))
    assert typo.code == 2
    assert _one_line(typo.err, "driftloop bootstrap: error: ") == (
        "driftloop bootstrap: error: bootstrap.csv: no target column 'lable' ([model] target); "
        "its columns are ['x1', 'x2', 'x3', 'c1', 'c2', 'label']. Fix [model] target in "
        f"{project.config}, or give labelled training data."
    )


def test_an_unreadable_config_is_one_line_and_v_after_the_verb_adds_the_traceback(
    project: Project,
) -> None:
    project.config.write_bytes(b'work_dir = "w\xff"\n')
    res = cli("status", "--config", str(project.config))
    assert res.code == 2
    assert _one_line(res.err, "driftloop status: error: ") == (
        f"driftloop status: error: {project.config} is not UTF-8 text (invalid start byte at "
        "byte 13); save the config as UTF-8 (`driftloop init` writes one)."
    )
    verbose = cli("status", "--config", str(project.config), "-v")
    assert verbose.code == 2 and "Traceback (most recent call last)" in verbose.err
    assert "driftloop.core.errors.ConfigError" in verbose.err


def test_run_help_lists_the_exit_codes() -> None:
    from driftloop.app.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text = sub.choices["run"].format_help()
    assert "exit status:\n  0  every batch was processed, or none was waiting\n" in text
    assert "\n  3  some batch went to quarantine (bad data, unknown classes, or a" in text
    assert "\n1 wins over 3 when both happened." in text
