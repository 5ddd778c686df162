"""`driftloop demo`: the whole loop on a generated drifting stream, with a table and a plot."""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from driftloop.app.progress import embedded_server
from driftloop.app.scaffold import write_config
from driftloop.app.stream import TARGET, Stream, make_stream
from driftloop.app.table import HEADER, format_row
from driftloop.core.config import load_config
from driftloop.core.errors import DriftloopError
from driftloop.core.progress import current
from driftloop.core.records import Action, BatchRecord
from driftloop.core.runtime import prepare_environment

MARKER = ".driftloop-demo"


@dataclass
class DemoResult:
    """What the demo did: the stream, one record per batch, and where things were written."""

    stream: Stream
    records: list[BatchRecord]
    config_path: Path
    plot_path: Path
    follow_ups: list[dict[str, Any]]


def _fresh_dir(folder: Path) -> None:
    if folder.exists():
        if not (folder / MARKER).exists():
            raise DriftloopError(
                f"{folder} exists and was not made by `driftloop demo`; pass --dir with a new one"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by driftloop demo; deleted by the next demo run\n")


def compare_after_promotions(
    config_path: Path, records: list[BatchRecord], stream: Stream
) -> list[dict[str, Any]]:
    """For each promotion at batch k, old and new champion accuracy on batch k+1."""
    from driftloop.flows.options import model_options
    from driftloop.models import accuracy, connect, load_version

    cfg = load_config(config_path)
    store, name = model_options(cfg).store, cfg.model.name
    client = connect(store)
    out = []
    for k, rec in enumerate(records[:-1]):
        if rec.action != Action.PROMOTED or rec.challenger_version is None:
            continue
        new_v = rec.challenger_version
        old_v = str(client.get_model_version(name, new_v).tags["driftloop.parent_version"])
        nxt = stream.batches[k + 1].frame
        old, new = (
            load_version(store, client, name, old_v),
            load_version(store, client, name, new_v),
        )
        out.append(
            {
                "promoted_at": rec.batch,
                "next_batch": stream.batches[k + 1].name,
                "old_version": old_v,
                "new_version": new_v,
                "old_accuracy": accuracy(old.model, nxt, old.meta),
                "new_accuracy": accuracy(new.model, nxt, new.meta),
            }
        )
    return out


def plot_demo(records: list[BatchRecord], stream: Stream, path: Path) -> Path:
    """PNG of champion accuracy per batch, drift verdicts, promotions and true drift points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xs = list(range(len(records)))
    fig, ax = plt.subplots(figsize=(10, 4.5))
    ax.plot(
        xs,
        [float("nan") if r.score_batch is None else r.score_batch for r in records],
        "o-",
        label="champion accuracy on arriving batch",
    )
    after = [r.score_after if r.action == Action.PROMOTED else None for r in records]
    ax.plot(
        xs,
        [a if a is not None else float("nan") for a in after],
        "g^",
        ms=10,
        label="new champion on batch holdout",
    )
    for x in stream.drift_points:
        ax.axvline(x, color="grey", ls="--", lw=1)
    flagged = [x for x, r in zip(xs, records, strict=True) if r.drift]
    ax.scatter(
        flagged,
        [0.02] * len(flagged),
        marker="v",
        color="red",
        s=60,
        label="drift flagged",
        transform=ax.get_xaxis_transform(),
    )
    ax.set_xticks(xs, [str(i) for i in xs])
    ax.set_xlabel("batch (dashed: true drift points)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    shift, concept = stream.drift_points[:2]
    ax.set_title(f"driftloop demo: covariate shift at batch {shift}, concept change at {concept}")
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def bootstrap_project(folder: Path, bootstrap: pd.DataFrame, model_name: str) -> tuple[Path, Any]:
    """Write the bootstrap data and a default config into folder; register version 1.

    Returns the config file and the registered model version.
    """
    data = folder / "bootstrap.csv"
    bootstrap.to_csv(data, index=False)
    config_path = write_config(data, TARGET, model_name, folder)
    cfg = load_config(config_path)
    cfg.ensure_dirs()
    prepare_environment(cfg)
    from driftloop.drift import build_profile
    from driftloop.flows.options import model_options
    from driftloop.ingest import sha256_of
    from driftloop.models import bootstrap_model

    profile = build_profile(bootstrap, cfg.features.numeric, cfg.features.categorical)
    opts = model_options(cfg)
    mv = bootstrap_model(bootstrap, profile.to_dict(), opts, data.name, sha256_of(data))
    return config_path, mv


def deliver(landing_dir: Path, name: str, frame: pd.DataFrame) -> Path:
    """Put a batch into the landing folder as `name`.csv atomically, as a producer should."""
    landing = landing_dir / f"{name}.csv"
    tmp = landing.with_name(f".{landing.name}.tmp")
    frame.to_csv(tmp, index=False)
    os.replace(tmp, landing)
    return landing


def run_demo(folder: Path, rows: int = 2000, seed: int = 0, out: Any = None) -> DemoResult:
    """Generate a stream, bootstrap a model, process every batch through the monitor flow."""
    out = out or sys.stdout
    folder = folder.resolve()
    _fresh_dir(folder)
    stream = make_stream(seed=seed, rows=rows)
    print(
        f"driftloop demo in {folder}: {len(stream.batches)} batches of {rows} rows; "
        f"true drift points at batches {stream.drift_points}",
        file=out,
    )
    t0 = time.perf_counter()
    config_path, mv = bootstrap_project(folder, stream.bootstrap, "demo-model")
    cfg = load_config(config_path)
    from driftloop.app.report import write_report
    from driftloop.flows.monitor import run_monitor

    print(
        f"bootstrapped {cfg.model.name} v{mv.version} "
        f"(validation accuracy {float(mv.tags['driftloop.reference_score']):.3f})",
        file=out,
    )
    embedded_server(current())
    print(HEADER, file=out)
    records: list[BatchRecord] = []
    for batch in stream.batches:
        deliver(cfg.landing_dir, batch.name, batch.frame)
        recs = [r for r in run_monitor(config_path=str(config_path)) if isinstance(r, BatchRecord)]
        records.extend(recs)
        for r in recs:
            print(format_row(r), file=out, flush=True)
    follow = compare_after_promotions(config_path, records, stream)
    for f in follow:
        print(
            f"after promotion at {f['promoted_at']}: on {f['next_batch']} the new champion "
            f"v{f['new_version']} scores {f['new_accuracy']:.3f}, the old v{f['old_version']} "
            f"{f['old_accuracy']:.3f}",
            file=out,
        )
    plot = plot_demo(records, stream, folder / "demo.png")
    print(f"\nloop done in {time.perf_counter() - t0:.0f} s; plot: {plot}", file=out)
    page = write_report(cfg, folder / "reports", last=max(1, len(records)))
    print(f"drift over time: {page}", file=out)
    print(f"MLflow store:  {cfg.mlflow_uri} (artifacts {cfg.artifact_location})", file=out)
    print(
        f"  open its UI: mlflow ui --backend-store-uri {cfg.mlflow_uri} "
        f"--default-artifact-root {cfg.artifact_location}",
        file=out,
    )
    print(f"Prefect store: {cfg.prefect_home}", file=out)
    print(f"  open its UI: PREFECT_HOME={cfg.prefect_home} prefect server start", file=out)
    print(f"Try the CLI on it: driftloop status --config {config_path}", file=out)
    return DemoResult(stream, records, config_path, plot, follow)
