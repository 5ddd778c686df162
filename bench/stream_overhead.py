"""Per-batch overhead of orchestration and tracking: a no-drift batch through the flow against
the drift computation alone on the same batch.

Run by stream_bench.py in a fresh process per Prefect mode (the mode is fixed at import):

    .venv/bin/python bench/stream_overhead.py --mode ephemeral --rows 2000 --batches 4
    .venv/bin/python bench/stream_overhead.py --mode server    # starts `prefect server start`

It bootstraps a project on the no-drift stream, sends one batch through `monitor` to warm up
(in ephemeral mode that first run starts the embedded server), then for each further batch
times: the `monitor` flow on it; and, outside Prefect, the same stages on the same batch with
the same code: loading the champion from the registry, scoring it, the drift check
(`flows.tasks.drift_check`, what the detect-drift task runs) and the batch's MLflow run
(`track_task`'s function). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path, PurePosixPath
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _server(folder: Path) -> tuple[Any, str]:
    """Start `prefect server start` on a free port (SQLite in folder); return it and its API."""
    from tests.integration.servers import BIN, PG_HOST, Server, clean_env, free_port

    port = free_port()
    server = Server(
        "prefect server",
        [str(BIN / "prefect"), "server", "start", "--host", PG_HOST, "--port", str(port)],
        clean_env(
            PREFECT_HOME=str(folder / "prefect-server-home"),
            PREFECT_SERVER_ANALYTICS_ENABLED="false",
            PREFECT_SERVER_UI_ENABLED="false",
        ),
        folder / "prefect-server.log",
    )
    api = f"http://{PG_HOST}:{port}/api"
    t0 = time.perf_counter()
    server.wait_healthy(f"{api}/health")
    print(f"prefect server healthy after {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return server, api


def measure(folder: Path, rows: int, batches: int, seed: int) -> dict[str, Any]:
    """Time `batches` no-drift batches through the flow and, stage by stage, outside it."""
    from bench.stream_policies import start_project
    from driftloop.app.demo import deliver
    from driftloop.app.streams import MIN_BATCHES, make_scenario
    from driftloop.core.records import BatchRecord, Status
    from driftloop.ingest.admit import ACCEPTED, Admission

    stream = make_scenario("stable", seed=seed, rows=rows, batches=max(MIN_BATCHES, batches + 1))
    config_path, cfg, _ = start_project(folder / "project", stream, "overhead-model")
    from driftloop.flows import monitor
    from driftloop.flows.context import RunContext
    from driftloop.flows.tasks import drift_check, track_task
    from driftloop.models import load_champion
    from driftloop.models.evaluate import predicted

    first = stream.batches[0]
    deliver(cfg.landing_dir, first.name, first.frame)
    t0 = time.perf_counter()
    monitor(config_path=str(config_path))
    first_s = time.perf_counter() - t0
    out: dict[str, list[float]] = {k: [] for k in ("flow", "load", "score", "drift", "track")}
    actions = []
    for batch in stream.batches[1 : batches + 1]:
        deliver(cfg.landing_dir, batch.name, batch.frame)
        t0 = time.perf_counter()
        (rec,) = monitor(config_path=str(config_path))
        flow_s = time.perf_counter() - t0
        actions.append(rec.action)
        if rec.action != "none":  # a false alarm retrained: not a no-drift batch
            continue
        out["flow"].append(flow_s)
        ctx = RunContext.open(str(config_path))
        t0 = time.perf_counter()
        champion = load_champion(ctx.options.store, ctx.client, cfg.model.name)
        out["load"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        seen = predicted(champion.model, batch.frame, champion.meta, True)
        out["score"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        report = drift_check(champion, batch.frame, seen, ctx)
        out["drift"].append(time.perf_counter() - t0)
        adm = Admission(PurePosixPath(f"{batch.name}.csv"), rec.sha256, ACCEPTED, frame=batch.frame)
        t0 = time.perf_counter()
        done = BatchRecord(adm.path.name, Status.PROCESSED, score_batch=seen.score)
        track_task.fn(ctx, adm, champion, report, done, 1)
        out["track"].append(time.perf_counter() - t0)
    if not out["flow"]:
        raise RuntimeError(f"no batch passed without a retrain: {actions}")
    med = {f"{k}_s": statistics.median(v) for k, v in out.items()}
    return {"first_flow_s": first_s, **med, "batches": len(out["flow"]), "actions": actions}


def main() -> int:
    """Measure in the requested Prefect mode and print the figures as JSON on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("ephemeral", "server"), default="ephemeral")
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--batches", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="driftloop-overhead-") as tmp:
        folder = Path(tmp)
        server = None
        if args.mode == "server":
            server, api = _server(folder)
            os.environ["PREFECT_API_URL"] = api
        else:
            os.environ.pop("PREFECT_API_URL", None)
            os.environ["PREFECT_HOME"] = str(folder / "prefect-home")
        try:
            result = measure(folder, args.rows, args.batches, args.seed)
        finally:
            if server is not None:
                from tests.integration.servers import stop_all

                stop_all([server])
    print(json.dumps({"mode": args.mode, "rows": args.rows, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
