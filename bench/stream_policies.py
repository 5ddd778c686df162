"""The policies compared on a stream: driftloop's real loop, and four baselines.

driftloop runs as a user runs it: a config file written by `driftloop init`'s template, the
bootstrap version registered in an MLflow SQLite store in the work folder, every batch
dropped into the landing folder and processed by the `monitor` Prefect flow (embedded
Prefect unless PREFECT_API_URL is set). Its prequential accuracy is the record's
`accuracy_batch`: the champion's accuracy on the whole batch before any retrain on it.

The baselines call models/ directly (no Prefect, no MLflow), start from the same registered
version 1 (same weights, optimizer state and replay rows) and see the same batches:
- never: the bootstrap model serves every batch;
- finetune-every: after scoring a batch, driftloop's own `models.finetune` (same settings,
  with replay of the reservoir buffer) on the whole batch, with no drift test and no gate
  (so no holdout is split off either);
- scratch-scheduled: every `every`-th batch, `train_from_scratch` on the replay buffer plus
  the batch (the data driftloop's own from-scratch escalation uses);
- scratch-every: the same from-scratch retrain after every batch (the cost ceiling).
Every baseline adds each batch to its reservoir replay buffer, as driftloop's live buffer does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from bench.stream_metrics import PolicyRun
from driftloop.app.demo import bootstrap_project, deliver
from driftloop.app.stream import Stream
from driftloop.core.config import Config, load_config

BASELINES = ("never", "finetune-every", "scratch-scheduled", "scratch-every")
RETRAIN_ACTIONS = ("promoted", "rejected")


def start_project(folder: Path, stream: Stream, model_name: str) -> tuple[Path, Config, Any]:
    """Bootstrap a driftloop project on the stream; return its config and version 1, loaded."""
    from driftloop.flows.options import model_options
    from driftloop.models import connect, load_version

    folder.mkdir(parents=True, exist_ok=True)
    config_path, mv = bootstrap_project(folder, stream.bootstrap, model_name)
    cfg = load_config(config_path)
    store = model_options(cfg).store
    return config_path, cfg, load_version(store, connect(store), model_name, str(mv.version))


@contextmanager
def timed_training(clock: list[float]) -> Iterator[None]:
    """Time every fine-tune and from-scratch training the challenger makes (real calls)."""
    import driftloop.models.challenger as challenger

    real = challenger.finetune, challenger.train_from_scratch

    def timed(fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                clock.append(time.perf_counter() - t0)

        return call

    challenger.finetune, challenger.train_from_scratch = timed(real[0]), timed(real[1])
    try:
        yield
    finally:
        challenger.finetune, challenger.train_from_scratch = real


def run_driftloop(config_path: Path, stream: Stream) -> tuple[PolicyRun, list[dict[str, Any]]]:
    """Feed the stream batch by batch through the monitor flow; return the run and records."""
    from driftloop.flows import monitor

    cfg = load_config(config_path)
    clock: list[float] = []
    records: list[Any] = []
    t_all = time.perf_counter()
    with timed_training(clock):
        for batch in stream.batches:
            deliver(cfg.landing_dir, batch.name, batch.frame)
            recs = monitor(config_path=str(config_path))
            if len(recs) != 1 or recs[0].status != "processed":
                raise RuntimeError(f"{batch.name} was not processed: {recs}")
            records.append(recs[0])
    actions = [r.action.value for r in records]
    run = PolicyRun(
        "driftloop",
        [float(r.score_batch) for r in records],
        [a in RETRAIN_ACTIONS for a in actions],
        sum(clock),
        time.perf_counter() - t_all,
        actions,
        [a == "recalled" for a in actions],
    )
    return run, records


def run_baseline(policy: str, start: Any, stream: Stream, cfg: Config, every: int) -> PolicyRun:
    """Run one baseline policy over the stream, starting from the registered version `start`."""
    from driftloop.flows.options import model_options
    from driftloop.models import finetune, score, train_from_scratch

    opts = model_options(cfg)
    if policy not in BASELINES:
        raise ValueError(f"unknown policy {policy!r}; choose one of {BASELINES}")
    model, meta, buffer = start.fresh_model(), start.meta, start.replay_buffer
    accuracy: list[float] = []
    retrained: list[bool] = []
    train_s = 0.0
    t_all = time.perf_counter()
    for i, batch in enumerate(stream.batches):
        frame = batch.frame
        accuracy.append(score(model, frame, meta))
        due = policy in ("finetune-every", "scratch-every") or (
            policy == "scratch-scheduled" and (i + 1) % every == 0
        )
        if due:
            t0 = time.perf_counter()
            if policy == "finetune-every":
                trained = finetune(
                    model, meta, frame, buffer.frame, opts.finetune, opts.replay.fraction
                )
            else:
                both = pd.concat([buffer.frame, frame], ignore_index=True)
                trained = train_from_scratch(both, opts.spec, opts.train)
            train_s += time.perf_counter() - t0
            model, meta = trained.model, trained.meta
        retrained.append(due)
        buffer = buffer.add(
            frame, cfg.model.target, cfg.finetune.replay_rows, cfg.training.seed + i + 1, True
        )
    run = PolicyRun(policy, accuracy, retrained, train_s, time.perf_counter() - t_all)
    run.actions = ["retrain" if r else "none" for r in retrained]
    return run
