"""The stream bench's delayed-label mode (`--label-delay K`): labels come K batches late.

driftloop runs as a user with late labels runs it: `[model] id_column = "rid"`, every batch
dropped into landing/ without its target, and with batch i the label file of batch i - K
(ids and targets only) dropped into labels/; one `monitor` flow per batch (the batch first,
then the late-label step joins, tests and challenges). Its prequential accuracy on batch i
is the accuracy, on batch i's true labels, of the champion version that served batch i (the
version its record names), so it is the same measure as the labelled run's `accuracy_batch`.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bench.stream_metrics import PolicyRun
from driftloop.app.demo import bootstrap_project, deliver
from driftloop.app.stream import TARGET, Stream
from driftloop.core.config import Config, load_config

ID = "rid"
RETRAIN_ACTIONS = ("promoted", "rejected")


def with_ids(i: int, frame: pd.DataFrame) -> pd.DataFrame:
    """Batch i's rows with their ids `i-n`."""
    return frame.assign(**{ID: [f"{i}-{n}" for n in range(len(frame))]})


def start_late_project(folder: Path, stream: Stream, model_name: str) -> Path:
    """A bootstrapped project whose batches carry ids (`[model] id_column = "rid"`)."""
    folder.mkdir(parents=True, exist_ok=True)
    config_path, _ = bootstrap_project(folder, stream.bootstrap, model_name)
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(
        re.sub(r'^id_column = ""', f'id_column = "{ID}"', text, count=1, flags=re.M),
        encoding="utf-8",
    )
    if load_config(config_path).model.id_column != ID:
        raise RuntimeError(f"{config_path}: could not set [model] id_column")
    return config_path


def deliver_labels(cfg: Config, name: str, frame: pd.DataFrame) -> None:
    """Drop a label file (ids and targets) into labels/ atomically."""
    folder = cfg.work_dir / "labels"
    folder.mkdir(parents=True, exist_ok=True)
    tmp, path = folder / f".{name}.csv.tmp", folder / f"{name}.csv"
    frame[[ID, TARGET]].to_csv(tmp, index=False)
    tmp.replace(path)


class Served:
    """The accuracy of each registered version on a batch (versions loaded once)."""

    def __init__(self, cfg: Config) -> None:
        from driftloop.flows.options import model_options
        from driftloop.models import connect

        self.cfg, self.store = cfg, model_options(cfg).store
        self.client, self.models = connect(self.store), {}  # type: dict[str, Any]

    def accuracy(self, version: str, frame: pd.DataFrame) -> float:
        """The version's accuracy on the labelled frame."""
        from driftloop.models import load_version, score

        if version not in self.models:
            self.models[version] = load_version(
                self.store, self.client, self.cfg.model.name, version
            )
        champion = self.models[version]
        return float(score(champion.model, frame, champion.meta))


def run_delayed(
    folder: Path, stream: Stream, delay: int, model_name: str
) -> tuple[PolicyRun, list[list[Any]]]:
    """Feed the stream through `monitor` with every batch's labels `delay` batches late."""
    from driftloop.core.records import BatchRecord, LabelRecord
    from driftloop.flows import monitor

    config_path = start_late_project(folder, stream, model_name)
    cfg = load_config(config_path)
    served = Served(cfg)
    frames = [with_ids(i, b.frame) for i, b in enumerate(stream.batches)]
    accuracy, actions, per_batch = [], [], []
    t0 = time.perf_counter()
    for i, batch in enumerate(stream.batches):
        deliver(cfg.landing_dir, batch.name, frames[i].drop(columns=TARGET))
        if i >= delay:
            deliver_labels(cfg, f"labels-{stream.batches[i - delay].name}", frames[i - delay])
        recs = monitor(config_path=str(config_path))
        batch_rec = next(r for r in recs if isinstance(r, BatchRecord))
        late = [r for r in recs if isinstance(r, LabelRecord)]
        accuracy.append(served.accuracy(str(batch_rec.champion_version), frames[i]))
        actions.append(next((r.action.value for r in late if r.action != "no-loss"), "none"))
        per_batch.append([batch_rec.action.value, *(f"{r.batch}:{r.action.value}" for r in late)])
    run = PolicyRun(
        f"driftloop K={delay}",
        accuracy,
        [a in RETRAIN_ACTIONS for a in actions],
        0.0,
        time.perf_counter() - t0,
        actions,
        [a == "recalled" for a in actions],
    )
    return run, per_batch


def late_checks(
    late_mean: float, labelled_mean: float, late_after: list[float], never_after: list[float]
) -> dict[str, bool]:
    """The must-show of the delayed mode: close to the labelled run, above never-retrain."""
    return {
        "late labels: mean within 1 point of labels in the batch": abs(late_mean - labelled_mean)
        <= 0.01,
        "late labels: above never-retrain after each drift": all(
            a > n for a, n in zip(late_after, never_after, strict=True)
        ),
    }


def evaluate_late(
    name: str, stream: Stream, work: Path, delay: int, summaries: dict[str, Any]
) -> dict[str, Any]:
    """The delayed-label run of one stream, its summary and its checks (printed too)."""
    from bench.stream_metrics import summarise
    from driftloop.app.streams import stable_stretch

    run, per_batch = run_delayed(work / f"{name}-late", stream, delay, f"bench-late-{name}")
    summary = summarise(run, stream.drift_points, stable_stretch(stream))
    labelled, never = summaries["driftloop"], summaries["never"]
    checks = late_checks(summary.mean, labelled.mean, summary.after_drift, never.after_drift)
    print(
        f"driftloop, labels {delay} batches late: mean {summary.mean:.3f} (labels in the batch "
        f"{labelled.mean:.3f}, never {never.mean:.3f}); after each drift "
        f"{[round(a, 3) for a in summary.after_drift]} (never "
        f"{[round(a, 3) for a in never.after_drift]}); per batch {per_batch}"
    )
    for check, ok in checks.items():
        print(f"  {check}: {'PASS' if ok else 'FAIL'}")
    return {
        "delay": delay,
        "summary": summary,
        "checks": checks,
        "accuracy": run.accuracy,
        "per_batch": per_batch,
        "run": run,
    }


def late_table(results: list[dict[str, Any]]) -> str:
    """Markdown: per stream, labels in the batch against labels K batches late and never."""
    rows = [
        "| stream | K | mean, labels in batch | mean, labels K late | mean, never "
        "| after each drift, K late | after each drift, never | checks |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        late = r.get("late")
        if not late:
            continue
        s, lab, nev = late["summary"], r["summaries"]["driftloop"], r["summaries"]["never"]
        ok = (
            "PASS"
            if all(late["checks"].values())
            else "FAIL: " + "; ".join(c for c, v in late["checks"].items() if not v)
        )
        rows.append(
            f"| {r['stream']} | {late['delay']} | {lab.mean:.3f} | {s.mean:.3f} | {nev.mean:.3f} "
            f"| {', '.join(f'{a:.3f}' for a in s.after_drift) or '-'} "
            f"| {', '.join(f'{a:.3f}' for a in nev.after_drift) or '-'} | {ok} |"
        )
    return "\n".join(rows) + "\n"
