"""Adaptation benchmark: fine-tuning against retraining from scratch, and what replay buys.

Run: .venv/bin/python bench/adapt_bench.py [--rows 5000] [--seed 0] [--history 4,9]
     [--set finetune.epochs=12 ...]

Scenario 1, abrupt concept change: a champion trained on the old concept (4 and 9 batches of
it by default, one run each) meets a labelled batch of the new one. Fine-tuning the champion
as driftloop does after a concept change (new rows, plus `[finetune] concept_replay_fraction`
of replayed earlier rows: none by default) is compared with a full retrain from
scratch on all data seen so far, measured in the same run: accuracy on a large post-drift
test set, and wall time of the training step.

Scenario 2, covariate shift: the champion is fine-tuned on a shifted batch with replay of
earlier rows and without (naive); the bench prints how much accuracy each loses on the
pre-drift distribution.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
import pandas as pd

from driftloop.app.stream import CATEGORICAL, NUMERIC, TARGET, make_batch
from driftloop.core.config import Config, config_from_dict
from driftloop.flows.options import model_options
from driftloop.models.data import split_frame
from driftloop.models.evaluate import score
from driftloop.models.finetune import finetune
from driftloop.models.options import ModelSpec, TrainOptions
from driftloop.models.replay import ReplayBuffer
from driftloop.models.train import TrainedModel, train_from_scratch


def _config(overrides: Sequence[str] = ()) -> Config:
    data: dict[str, Any] = {
        "model": {"target": TARGET},
        "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
    }
    for item in overrides:
        key, _, value = item.partition("=")
        section, _, name = key.partition(".")
        data.setdefault(section, {})[name] = tomllib.loads(f"v = {value}")["v"]
    return config_from_dict(data)


def _copy(trained: TrainedModel, folder: Path, name: str):
    import keras

    path = folder / f"{name}.keras"
    trained.model.save(path)
    return keras.saving.load_model(path)


def _train(cfg: Config) -> tuple[ModelSpec, TrainOptions]:
    """The spec and training options the challenger trains with."""
    opts = model_options(cfg)
    return opts.spec, opts.train


def concept_change(
    cfg: Config, rows: int, seed: int, folder: Path, batches: int
) -> dict[str, float]:
    """Fine-tune vs retrain from scratch on all data after an abrupt concept change.

    The champion was trained on ``batches`` batches of the old concept.
    """
    rng = np.random.default_rng(seed)
    history = [make_batch(rng, rows, shifted=False, concept=0) for _ in range(batches)]
    champion = train_from_scratch(pd.concat(history, ignore_index=True), *_train(cfg))
    new = make_batch(rng, rows, shifted=False, concept=1)
    test = make_batch(rng, 20_000, shifted=False, concept=1)
    fit_part, _ = split_frame(new, cfg.finetune.holdout_fraction, seed)

    everything = pd.concat(history, ignore_index=True)
    buffer = ReplayBuffer(everything.iloc[0:0]).add(
        everything, TARGET, cfg.finetune.replay_rows, seed, stratify=True
    )
    model = _copy(champion, folder, "champion")
    t0 = time.perf_counter()
    # As the challenger does after a concept change: old-rule labels replayed at most at
    # `[finetune] concept_replay_fraction` (the champion's 0.3 accuracy is a significant drop).
    tuned = finetune(
        model,
        champion.meta,
        fit_part,
        buffer.frame,
        model_options(cfg).finetune,
        cfg.finetune.concept_replay_fraction,
    )
    t_fine = time.perf_counter() - t0

    t0 = time.perf_counter()
    scratch = train_from_scratch(pd.concat([*history, fit_part], ignore_index=True), *_train(cfg))
    t_scratch = time.perf_counter() - t0
    recent = train_from_scratch(
        fit_part, *_train(cfg)
    )  # the accuracy a retrain could reach at best
    return {
        "recent_acc": score(recent.model, test, recent.meta),
        "champion_acc": score(champion.model, test, champion.meta),
        "finetune_acc": score(tuned.model, test, tuned.meta),
        "scratch_acc": score(scratch.model, test, scratch.meta),
        "finetune_s": t_fine,
        "scratch_s": t_scratch,
        "finetune_epochs": float(tuned.epochs_run),
        "scratch_epochs": float(scratch.epochs_run),
    }


def covariate_shift(cfg: Config, rows: int, seed: int, folder: Path) -> dict[str, float]:
    """Accuracy kept on the pre-drift distribution after fine-tuning on shifted data."""
    rng = np.random.default_rng(seed + 1)
    past = pd.concat([make_batch(rng, rows, False, 0) for _ in range(4)], ignore_index=True)
    champion = train_from_scratch(past, *_train(cfg))
    buffer = ReplayBuffer(past.iloc[0:0]).add(
        past, TARGET, cfg.finetune.replay_rows, seed, stratify=True
    )
    shifted = make_batch(rng, rows, shifted=True, concept=0)
    pre_test = make_batch(rng, 20_000, shifted=False, concept=0)
    post_test = make_batch(rng, 20_000, shifted=True, concept=0)
    fit_part, _ = split_frame(shifted, cfg.finetune.holdout_fraction, seed)
    f, share = model_options(cfg).finetune, cfg.finetune.replay_fraction
    with_replay = finetune(
        _copy(champion, folder, "a"), champion.meta, fit_part, buffer.frame, f, share
    )
    naive = finetune(
        _copy(champion, folder, "b"), champion.meta, fit_part, past.iloc[0:0], f, share
    )
    return {
        "pre_champion": score(champion.model, pre_test, champion.meta),
        "pre_replay": score(with_replay.model, pre_test, champion.meta),
        "pre_naive": score(naive.model, pre_test, champion.meta),
        "post_champion": score(champion.model, post_test, champion.meta),
        "post_replay": score(with_replay.model, post_test, champion.meta),
        "post_naive": score(naive.model, post_test, champion.meta),
    }


def _print_change(history: int, c: dict[str, float]) -> None:
    """Print one concept-change scenario's figures against the targets."""
    acc_ratio = c["finetune_acc"] / c["scratch_acc"]
    time_ratio = c["finetune_s"] / c["scratch_s"]
    print(
        f"1. abrupt concept change after {history} batches of the old concept "
        "(post-drift test set of 20000 rows)"
    )
    print(f"   old champion accuracy          {c['champion_acc']:.4f}")
    print(
        f"   fine-tune:  accuracy {c['finetune_acc']:.4f}  time {c['finetune_s']:6.2f} s"
        f"  ({c['finetune_epochs']:.0f} epochs)"
    )
    print(
        f"   from scratch on all data: accuracy {c['scratch_acc']:.4f}  time "
        f"{c['scratch_s']:6.2f} s  ({c['scratch_epochs']:.0f} epochs)"
    )
    print(f"   (from scratch on the new batch only: accuracy {c['recent_acc']:.4f})")
    print(
        f"   accuracy ratio {acc_ratio:.3f} (target >= 0.98): "
        f"{'PASS' if acc_ratio >= 0.98 else 'FAIL'}"
    )
    print(
        f"   time ratio     {time_ratio:.3f} (target <= 0.25): "
        f"{'PASS' if time_ratio <= 0.25 else 'FAIL'}"
    )


def main() -> int:
    """Run both scenarios and print the figures and the targets they are held to."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000, help="rows per batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config setting (TOML value), e.g. --set finetune.batch_size=128",
    )
    parser.add_argument(
        "--history",
        default="4,9",
        help="batches of the old concept before the change, one scenario each (default 4,9: "
        "9 is where the demo stream changes concept)",
    )
    args = parser.parse_args()
    import tempfile

    cfg = _config(args.set)
    histories = [int(h) for h in args.history.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        changes = {h: concept_change(cfg, args.rows, args.seed, Path(tmp), h) for h in histories}
        s = covariate_shift(cfg, args.rows, args.seed, Path(tmp))
    print(f"adapt_bench rows/batch={args.rows} seed={args.seed} cores={os.cpu_count()}")
    print(f"   settings: finetune {cfg.finetune.model_dump()}")
    for history, c in changes.items():
        _print_change(history, c)
    drop_replay = 100 * (s["pre_champion"] - s["pre_replay"])
    drop_naive = 100 * (s["pre_champion"] - s["pre_naive"])
    print("2. covariate shift (20000-row test sets before and after the shift)")
    print(
        f"   pre-drift accuracy: champion {s['pre_champion']:.4f}, fine-tuned with replay "
        f"{s['pre_replay']:.4f}, naive {s['pre_naive']:.4f}"
    )
    print(
        f"   post-drift accuracy: champion {s['post_champion']:.4f}, with replay "
        f"{s['post_replay']:.4f}, naive {s['post_naive']:.4f}"
    )
    print(
        f"   pre-drift drop with replay {drop_replay:+.2f} points (target <= 2): "
        f"{'PASS' if drop_replay <= 2 else 'FAIL'}; naive fine-tuning drops {drop_naive:+.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
