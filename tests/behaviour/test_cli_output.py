"""What the `driftloop` command prints: its version, -q and -v anywhere, and plain progress."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from contextlib import redirect_stderr
from importlib import metadata

import numpy as np
import pytest

from driftloop.app.cli import build_parser, main
from driftloop.app.cli_errors import verbosity_of
from driftloop.app.progress import Terminal
from driftloop.core.quiet import Verbosity
from tests.helpers import Project, cli


def test_version_prints_the_installed_distributions_version() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "driftloop.app.cli", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (done.returncode, done.stdout) == (0, f"driftloop {metadata.version('driftloop')}\n")
    assert done.stderr == ""


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["status"], Verbosity.NORMAL),
        (["status", "-q"], Verbosity.QUIET),
        (["-q", "status"], Verbosity.QUIET),
        (["run", "--quiet", "--json"], Verbosity.QUIET),
        (["-v", "run"], Verbosity.VERBOSE),
        (["run", "--json", "-v"], Verbosity.VERBOSE),
        (["demo", "-q", "--dir", "x"], Verbosity.QUIET),
    ],
)
def test_q_and_v_work_before_and_after_the_verb(argv: list[str], expected: Verbosity) -> None:
    args = build_parser().parse_args(argv)
    assert verbosity_of(args.verbose, args.quiet) == expected


def test_q_and_v_together_are_a_usage_error() -> None:
    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit) as stop:
        main(["status", "-q", "-v"])
    assert stop.value.code == 2
    assert "-v (--verbose) and -q (--quiet) exclude each other" in err.getvalue()


def test_a_terminal_redraws_one_line_and_a_pipe_gets_only_steps_and_lines() -> None:
    out = io.StringIO()
    with redirect_stderr(out):
        tty = Terminal(tty=True)
        tty.update("epoch 1/3")
        tty.update("epoch 2/3")
        tty.line("done")
    assert out.getvalue() == "\repoch 1/3\repoch 2/3\r         \rdone\n"
    out = io.StringIO()
    with redirect_stderr(out):
        pipe = Terminal(tty=False)
        for i in range(1, 4):
            pipe.update(f"epoch {i}/3")
        pipe.step("batch 1/2: a.csv")
        pipe.line("done")
    assert out.getvalue() == "batch 1/2: a.csv\ndone\n"


def test_the_epoch_callback_tells_each_epoch_and_one_line_at_the_end() -> None:
    from driftloop.models._keras import keras_module
    from driftloop.models.progress import epoch_callback

    keras = keras_module(seed=1)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    out = io.StringIO()
    with redirect_stderr(out):
        callback = epoch_callback("training", 3, Terminal(tty=True))
        model.fit(x, y, validation_split=0.25, epochs=3, verbose=0, callbacks=[callback])
    drawn = out.getvalue().split("\r")
    assert [re.sub(r", val_loss .*", "", d).strip() for d in drawn[1:4]] == [
        "training: epoch 1/3",
        "training: epoch 2/3",
        "training: epoch 3/3",
    ]
    assert re.fullmatch(r"training: 3 epochs, best val_loss \d+\.\d{4}\n", drawn[-1])


def test_run_prints_one_line_per_batch_when_not_on_a_terminal_and_nothing_with_q(
    project: Project,
) -> None:
    cfg = str(project.config)
    boot = cli("bootstrap", "--config", cfg, "--data", str(project.bootstrap_csv))
    assert boot.code == 0, boot.err
    assert re.fullmatch(r"training: \d+ epochs.*, best val_loss [\d.]+\n", boot.err)
    project.drop(project.stream.batches[0].frame, "a.csv")
    project.drop(project.stream.batches[1].frame, "b.csv")
    res = cli("run", "--config", cfg)
    assert res.code == 0, res.err
    steps = [line for line in res.err.splitlines() if not line.startswith("embedded Prefect")]
    assert steps[:2] == ["batch 1/2: a.csv", "batch 2/2: b.csv"]
    assert len(steps) == 3 and re.fullmatch(r"2 batch\(es\) in \d+ s", steps[2])
    project.drop(project.stream.batches[2].frame, "c.csv")
    quiet = cli("run", "--config", cfg, "-q")
    assert (quiet.code, quiet.err) == (0, "")
    assert [line.split()[0] for line in quiet.out.splitlines()[1:]] == ["c.csv"]
    # What matters still shows with -q: a batch that went to quarantine.
    project.drop(project.stream.batches[3].frame.drop(columns="x3"), "broken.csv")
    refused = cli("run", "-q", "--config", cfg)
    assert refused.code == 3
    assert refused.err.startswith("driftloop run: 1 batch(es) moved to quarantine: ['broken.csv']")
