"""Stream evaluation: driftloop's real loop against the usual retraining policies.

Run: .venv/bin/python bench/stream_bench.py   (or `make bench`, which also updates README)
Quick: .venv/bin/python bench/stream_bench.py --rows 300 --batches 8 --streams concept \
    --overhead none --out /tmp/stream-results

Every stream of `driftloop.app.streams` (seeded, known drift points) is fed batch by batch to
driftloop (config file, MLflow SQLite registry, `monitor` Prefect flow; see
bench/stream_policies.py) and to four baselines on the same batches, all starting from the
same registered bootstrap model. Prints and writes, per stream and policy: prequential
accuracy (mean, worst batch, after each drift), retrains, training time, wall time,
detection delay and false alarms, the must-show checks (PASS/FAIL), a PNG per stream; then
the per-batch overhead of orchestration and tracking (bench/stream_overhead.py, one fresh
process per Prefect mode).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.stream_metrics import Summary, summarise, targets  # noqa: E402
from bench.stream_report import checks_table, plot_stream, replace_section, table  # noqa: E402
from driftloop.app.streams import SCENARIOS, make_scenario, stable_stretch  # noqa: E402

POLICY_ORDER = ("driftloop", "never", "finetune-every", "scratch-scheduled", "scratch-every")


def evaluate(name: str, args: argparse.Namespace, work: Path, out: Path) -> dict[str, Any]:
    """All policies on one stream: summaries, checks and the plot."""
    from bench.stream_policies import BASELINES, run_baseline, run_driftloop, start_project

    batches = args.stable_batches if name == "stable" else args.batches
    stream = make_scenario(name, seed=args.seed, rows=args.rows, batches=batches)
    print(
        f"\n== {name} ({SCENARIOS[name]}): {len(stream.batches)} batches of {args.rows} rows, "
        f"drift points {stream.drift_points}",
        flush=True,
    )
    config_path, cfg, start = start_project(work / name, stream, f"bench-{name}")
    runs = {p: run_baseline(p, start, stream, cfg, args.every) for p in BASELINES}
    runs["driftloop"], records = run_driftloop(config_path, stream)
    stable = stable_stretch(stream)
    summaries = {p: summarise(runs[p], stream.drift_points, stable) for p in POLICY_ORDER}
    checks = targets(
        summaries["driftloop"],
        summaries["finetune-every"],
        summaries["never"],
        cfg.drift.alpha,
        args.margin,
    )
    title = f"{name}: {SCENARIOS[name]}, drift points {stream.drift_points or 'none'}"
    plot = plot_stream(title, stream, [runs[p] for p in POLICY_ORDER], out / f"stream_{name}.png")
    actions = runs["driftloop"].actions
    print(table([(name, summaries[p]) for p in POLICY_ORDER]), end="")
    print(f"driftloop actions: {actions}")
    flagged = {i: r.drifted_features for i, r in enumerate(records) if r.drift}
    print(f"driftloop drift verdicts (batch: drifted features): {flagged}")
    for check, ok in checks.items():
        print(f"  {check}: {'PASS' if ok else 'FAIL'}")
    return {
        "stream": name,
        "drift_points": stream.drift_points,
        "summaries": summaries,
        "checks": checks,
        "plot": plot,
        "actions": actions,
        "flagged": flagged,
        "accuracy": {p: runs[p].accuracy for p in POLICY_ORDER},
    }


def overhead(mode: str, args: argparse.Namespace, log: Path) -> dict[str, Any]:
    """Run bench/stream_overhead.py in a fresh process in the given Prefect mode."""
    cmd = [
        sys.executable,
        str(ROOT / "bench" / "stream_overhead.py"),
        f"--mode={mode}",
        f"--rows={args.rows}",
        f"--batches={args.overhead_batches}",
        f"--seed={args.seed}",
    ]
    # The product's defaults: its own Prefect home or server, and INFO run logs.
    drop = ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_LOGGING_LEVEL")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    with log.open("w") as err:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, text=True, env=env)
    if proc.returncode != 0:
        return {"mode": mode, "error": f"exit code {proc.returncode}; see {log.name}"}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def overhead_table(results: list[dict[str, Any]]) -> str:
    """Markdown table of the per-batch overhead, one row per Prefect mode."""
    head = (
        "| Prefect mode | first flow run s | no-drift batch through `monitor` s "
        "| drift check alone s | load champion s | score s | MLflow batch run s "
        "| flow / drift check | rest (orchestration, ingest, replay, artifacts) s |\n"
        "|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = []
    for r in results:
        if "error" in r:
            rows.append(f"| {r['mode']} | FAILED: {r['error']} |" + " |" * 7)
            continue
        rest = r["flow_s"] - r["load_s"] - r["score_s"] - r["drift_s"] - r["track_s"]
        rows.append(
            f"| {r['mode']} | {r['first_flow_s']:.1f} | {r['flow_s']:.2f} | {r['drift_s']:.3f} "
            f"| {r['load_s']:.2f} | {r['score_s']:.3f} | {r['track_s']:.2f} "
            f"| {r['flow_s'] / r['drift_s']:.0f}x | {rest:.2f} |"
        )
    return head + "\n".join(rows) + "\n"


def report(results: list[dict[str, Any]], over: list[dict[str, Any]], args: Any, out: Path) -> str:
    """The markdown of the results: figures, checks, plots, overhead."""
    rows: list[tuple[str, Summary]] = [
        (r["stream"], r["summaries"][p]) for r in results for p in POLICY_ORDER
    ]
    links = "\n".join(
        f"- [{r['stream']}]({os.path.relpath(r['plot'], ROOT / 'bench')}) "
        f"(drift points {r['drift_points'] or 'none'}; driftloop actions: "
        f"{', '.join(f'{i}:{a}' for i, a in enumerate(r['actions']) if a != 'none') or 'none'})"
        for r in results
    )
    text = (
        f"Command: `.venv/bin/python bench/stream_bench.py --rows {args.rows} --batches "
        f"{args.batches} --stable-batches {args.stable_batches} --seed {args.seed} "
        f"--every {args.every} --margin {args.margin}`; "
        f"{os.cpu_count()} cores.\n\n"
        + table(rows)
        + "\nMust-show checks (driftloop against fine-tune-every-batch and never-retrain; "
        f"'clear margin' = {args.margin:.2f} accuracy on the batches after each drift point):\n\n"
        + checks_table([(r["stream"], r["checks"]) for r in results])
        + "\nPlots:\n\n"
        + links
        + "\n"
    )
    if over:
        text += (
            f"\nPer-batch overhead (no-drift batches of {args.rows} rows, median over the "
            f"batches without a retrain among {args.overhead_batches} after a warm-up "
            "batch):\n\n" + overhead_table(over)
        )
    return text


def main() -> int:
    """Evaluate every requested stream, then the overhead; print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000, help="rows per batch")
    parser.add_argument("--batches", type=int, default=12, help="batches per drifting stream")
    parser.add_argument(
        "--stable-batches", type=int, default=40, help="batches of the long no-drift stream"
    )
    parser.add_argument("--streams", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--every", type=int, default=4, help="scratch-scheduled period")
    parser.add_argument("--margin", type=float, default=0.02, help="'clear margin' in accuracy")
    parser.add_argument("--overhead", choices=("none", "ephemeral", "both"), default="both")
    parser.add_argument("--overhead-batches", type=int, default=4)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "stream_results")
    parser.add_argument("--readme", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    names = [s.strip() for s in args.streams.split(",") if s.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown stream(s) {unknown}; choose from {sorted(SCENARIOS)}")
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="driftloop-stream-bench-") as tmp:
        work = Path(tmp)
        if not os.environ.get("PREFECT_API_URL"):
            os.environ["PREFECT_HOME"] = str(work / "prefect-home")
        results = [evaluate(n, args, work, args.out) for n in names]
    modes = {"none": [], "ephemeral": ["ephemeral"], "both": ["ephemeral", "server"]}
    over = [overhead(m, args, args.out / f"overhead_{m}.log") for m in modes[args.overhead]]
    text = report(results, over, args, args.out)
    print("\n" + text)
    (args.out / "results.md").write_text(text, encoding="utf-8")
    dump = [
        {
            **r,
            "summaries": {p: s.__dict__ for p, s in r["summaries"].items()},
            "plot": r["plot"].name,
        }
        for r in results
    ]
    (args.out / "results.json").write_text(
        json.dumps({"results": dump, "overhead": over}, indent=1), encoding="utf-8"
    )
    if args.readme:
        replace_section(ROOT / "bench" / "README.md", text)
    failed = [r["stream"] for r in results if not all(r["checks"].values())]
    print(f"stream bench done in {time.perf_counter() - t0:.0f} s")
    print("FAIL on: " + ", ".join(failed) if failed else "all must-show checks PASS")
    broken = [o["mode"] for o in over if "error" in o]
    if broken:
        print(f"overhead measurement FAILED in mode(s) {broken}; see {args.out}/overhead_*.log")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
