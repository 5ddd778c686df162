"""The `driftloop` command: init, bootstrap, run, requeue, retrain, serve, status, unlock..."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from driftloop.app.cli_errors import (
    QUIET_HELP,
    RUN_CODES,
    VERBOSE_HELP,
    UsageError,
    data_file,
    error_line,
    verbosity_of,
    version_line,
)
from driftloop.app.progress import embedded_server, show_progress
from driftloop.app.table import HEADER, format_row
from driftloop.core.config import Config, load_config
from driftloop.core.errors import ConfigError
from driftloop.core.faults import system_fault
from driftloop.core.progress import current
from driftloop.core.quiet import Verbosity
from driftloop.core.records import Action, BatchRecord, LabelAction, LabelRecord, Status
from driftloop.core.redact import redact
from driftloop.core.runtime import prepare_environment, setup_logging

if TYPE_CHECKING:
    from driftloop.ingest.zone import Zone

log = logging.getLogger(__name__)


def _load(args: argparse.Namespace) -> tuple[Config, str | None]:
    """The config and its file's path (None when it comes from DRIFTLOOP_* variables alone)."""
    cfg = load_config(args.config)
    prepare_environment(cfg)
    return cfg, str(cfg.source) if cfg.source else None


def cmd_init(args: argparse.Namespace) -> int:
    """Write driftloop.toml from a sample data file, printing every column's role and why."""
    from driftloop.app.roles import Overrides
    from driftloop.app.scaffold import format_plan, init_config

    overrides = Overrides(
        exclude=frozenset(args.exclude or ()),
        include=frozenset(args.include or ()),
        task=args.task or "",
        id_column=args.id_column or "",
        time_column=args.time_column or "",
    )
    path, plan = init_config(
        data_file(args.data, "a sample of your data (CSV, Parquet or JSON Lines)"),
        args.target,
        args.name,
        Path(args.dir) if args.dir else None,
        overwrite=args.force,
        overrides=overrides,
    )
    cfg = load_config(path)
    cfg.ensure_dirs()
    print(f"wrote {path}")
    print(format_plan(plan))
    print(f"  numeric:     {cfg.features.numeric}")
    print(f"  categorical: {cfg.features.categorical}")
    print(f"  drop batches into {cfg.landing_dir}")
    if cfg.model.id_column:
        m = cfg.model
        print(f"  late labels ({m.id_column!r} and {m.target!r} columns) into {_labels_dir(cfg)}")
    print(f"next: driftloop bootstrap --config {path} --data {args.data}")
    return 0


def _labels_dir(cfg: Config) -> str:
    """The zone's folder for late label files, created now so a user finds it."""
    from driftloop.ingest import zone_of
    from driftloop.ingest.labels_admit import label_folders

    zone = zone_of(cfg)
    folder = label_folders(zone).waiting
    zone.fs.makedirs(folder, exist_ok=True)
    return zone.url(folder)


def cmd_bootstrap(args: argparse.Namespace) -> int:
    """Train, register and crown the first model."""
    cfg, _ = _load(args)
    from driftloop.drift import build_profile
    from driftloop.flows.options import model_options
    from driftloop.ingest import read_table, sha256_of, validate_batch
    from driftloop.models import bootstrap_model

    data = data_file(args.data, "labelled training data (CSV, Parquet or JSON Lines)")
    feats = cfg.features
    raw = read_table(data, feats.categorical)
    if cfg.model.target not in raw.columns:
        raise ConfigError(
            f"{data.name}: no target column {cfg.model.target!r} ([model] target); its "
            f"columns are {[str(c) for c in raw.columns][:20]}. Fix [model] target in "
            f"{cfg.source or 'the config'}, or give labelled training data."
        )
    frame = validate_batch(
        raw,
        data.name,
        feats.numeric,
        feats.categorical,
        cfg.model.target,
        cfg.ingest.extra_columns,
        cfg.ingest.min_rows,
    )
    profile = build_profile(
        frame, feats.numeric, feats.categorical, max_values=cfg.drift.profile_max_values
    )
    cfg.ensure_dirs()
    opts = model_options(cfg)
    mv = bootstrap_model(frame, profile.to_dict(), opts, data.name, sha256_of(data), args.force)
    metric, value = (
        mv.tags["driftloop.reference_metric"],
        float(mv.tags["driftloop.reference_score"]),
    )
    print(
        f"registered {cfg.model.name} version {mv.version} as champion "
        f"(validation {metric} {value:.4f}) in {redact(cfg.mlflow_uri)}"
    )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Process every waiting batch once through the monitor flow."""
    cfg, path = _load(args)
    records: list[BatchRecord | LabelRecord] = []
    if _waiting(cfg):  # else Prefect, its embedded server and the models are not loaded
        if args.own_process:
            _start_early()
        from driftloop.flows.monitor import run_monitor

        _champion_before_batches(cfg)
        _models_ready(cfg)
        embedded_server(current())  # waits for the server started early, if it is not ready
        start = time.perf_counter()
        records = run_monitor(config_path=path)
        if records:  # ends the redrawn "batch i/n" line on a terminal before the table
            done = sum(isinstance(r, BatchRecord) for r in records)
            also = f", {len(records) - done} late-label join(s)" if len(records) > done else ""
            current().line(f"{done} batch(es){also} in {time.perf_counter() - start:.0f} s")
    if args.json:
        for r in records:
            print(json.dumps(r.to_dict(), default=str), flush=True)
    else:
        print(HEADER)
        for r in records:
            print(format_row(r))
        if not records:
            print(f"(no batch waiting in {cfg.landing_dir})")
    batches = [r for r in records if isinstance(r, BatchRecord)]
    code = run_exit_code(batches, cfg.ingest.max_attempts)
    refused = labels_exit_code([r for r in records if isinstance(r, LabelRecord)])
    return code if code == 1 else max(code, refused)


def _waiting(cfg: Config) -> bool:
    """Whether a batch or label file waits, once interrupted moves are finished (under the lock)."""
    from driftloop.ingest import open_ledger, recover, zone_of
    from driftloop.ingest.zone_lock import zone_lock

    cfg.ensure_dirs()
    zone = zone_of(cfg)
    zone.ensure_dirs()
    with zone_lock(cfg):
        for done in recover(zone, open_ledger(cfg)):
            log.warning("%s: interrupted move finished: %s", done.batch, done.status)
        return bool(zone.pending()) or _labels_waiting(cfg, zone)


def _labels_waiting(cfg: Config, zone: Zone) -> bool:
    """Whether a late-label file waits in labels/ (interrupted label moves finished first)."""
    if not cfg.model.id_column:
        return False
    from driftloop.ingest.labels_admit import label_folders, pending_labels, recover_labels
    from driftloop.ingest.labels_store import LabelStore

    recover_labels(zone, LabelStore(cfg.ledger_url))
    return bool(pending_labels(zone, label_folders(zone))) or _refusal_to_retry(cfg)


def _refusal_to_retry(cfg: Config) -> bool:
    """Whether labels refused for unknown classes wait on a champion other than the refuser."""
    from driftloop.ingest.labels_store import LabelStore
    from driftloop.models.history import CHAMPION
    from driftloop.models.registry_view import open_view

    refused = LabelStore(cfg.ledger_url).refused_by(cfg.model.name)
    if not refused:
        return False
    model = open_view(cfg.mlflow_uri).model(cfg.model.name)
    champion = model.aliases.get(CHAMPION) if model else None
    return any(version != champion for version in refused.values())


def _start_early() -> None:
    """Boot the embedded Prefect server now, while this process imports the stack.

    flows/early_server.py says why; it sets PREFECT_API_URL for the rest of the process, so it
    is for the command's own process only, never a host calling `main` in-process.
    """
    from driftloop.core.quick_exit import freeze_at_exit
    from driftloop.flows.early_server import start_early_server

    freeze_at_exit()  # registered first: runs after Prefect's drains and the server's stop
    start_early_server()


def _models_ready(cfg: Config) -> None:
    """Import Keras (TensorFlow) now when batches wait, while the embedded server boots."""
    from driftloop.ingest import zone_of
    from driftloop.models._keras import keras_module

    if zone_of(cfg).pending():  # late labels alone need no model
        keras_module()


def _champion_before_batches(cfg: Config) -> None:
    """`run` before `bootstrap` is a state error: refuse it before any batch is touched."""
    from driftloop.core.errors import TrackingUnreachable
    from driftloop.flows.preflight import require_champion
    from driftloop.ingest import zone_of

    waiting = zone_of(cfg).pending()
    if waiting:
        # An outage is left to the flow: it checks the server again, with retries.
        with contextlib.suppress(TrackingUnreachable):
            require_champion(cfg, len(waiting))


def labels_exit_code(joins: list[LabelRecord]) -> int:
    """3 when some batch's late labels hold classes the champion does not know, else 0."""
    refused = [r.batch for r in joins if r.action == LabelAction.UNKNOWN_CLASSES]
    if refused:
        print(
            f"driftloop run: the late labels of {len(refused)} batch(es) hold classes the "
            f"champion does not know: {refused}; they are kept, not tested. Bootstrap a model "
            "on data with these classes; the next `driftloop run` tests them.",
            file=sys.stderr,
        )
    return 3 if refused else 0


def run_exit_code(records: list[BatchRecord], max_attempts: int) -> int:
    """RUN_CODES: 1 when a batch failed, else 3 when one went to quarantine, else 0."""
    failed = [r for r in records if r.status == Status.FAILED]
    waiting = [r.batch for r in failed if r.action == Action.FAILED]
    gone = [r.batch for r in failed if r.action == Action.QUARANTINED]
    refused = [r.batch for r in records if r.status in (Status.QUARANTINED, Status.DUPLICATE)]
    if waiting:
        print(
            f"driftloop run: {len(waiting)} batch(es) failed and stay waiting: {waiting}",
            file=sys.stderr,
        )
    if gone:
        print(
            f"driftloop run: {len(gone)} batch(es) failed for the last allowed time "
            f"([ingest] max_attempts = {max_attempts}) and moved to quarantine: {gone}",
            file=sys.stderr,
        )
    if refused:
        print(
            f"driftloop run: {len(refused)} batch(es) moved to quarantine: {refused}; the "
            "reasons are in the records and `driftloop status`. Fix the cause, then "
            "`driftloop requeue NAME` (or `--quarantined`) to try them again.",
            file=sys.stderr,
        )
    return 1 if failed else 3 if refused else 0


def cmd_requeue(args: argparse.Namespace) -> int:
    """Put quarantined batches back in the landing folder for another try."""
    cfg, _ = _load(args)
    from driftloop.ingest import open_ledger, zone_of
    from driftloop.ingest.requeue import by_name, describe, quarantined, requeue, select

    if bool(args.names) == args.quarantined:
        raise UsageError("give the NAME(s) of quarantined batches, or --quarantined (not both)")
    if args.reason and not args.quarantined:
        raise UsageError("--reason TEXT selects among --quarantined; add --quarantined")
    zone, ledger = zone_of(cfg), open_ledger(cfg)
    items = quarantined(zone, ledger)
    if args.quarantined:
        chosen = select(items, args.reason or "")
    else:
        chosen = by_name(zone, items, args.names)
    done = requeue(zone, ledger, chosen)
    for entry in done:
        line = f"requeued {entry.batch} -> {entry.destination}"
        print(json.dumps(describe(entry)) if args.json else line)
    if not done and not args.json:
        what = f" whose reason holds {args.reason!r}" if args.reason else ""
        print(f"(no batch quarantined for itself{what} in {zone.quarantine})")
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    """Fine-tune the champion on the latest labelled batch now."""
    cfg, path = _load(args)
    from driftloop.flows import retrain
    from driftloop.flows.preflight import require_champion

    require_champion(cfg)

    out = retrain(config_path=path, force=args.force, from_scratch=args.from_scratch)
    print(
        json.dumps(out.to_dict(), default=str)
        if args.json
        else f"{out.action}: challenger v{out.challenger_version}; champion is "
        f"v{out.champion_version} ({out.reason})"
    )
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the model's monitor and retrain deployments on the Prefect server until stopped."""
    cfg, path = _load(args)
    from driftloop.flows.service import run_command, schedule_of, serve_model

    when = schedule_of(cfg) or {"schedule": "none: runs only when triggered"}
    print(
        f"serving monitor/{cfg.model.name} ({next(iter(when.values()))}) and "
        f"retrain/{cfg.model.name} (retrain on drift: {cfg.prefect.retrain})",
        flush=True,
    )
    print(f"  retrain now: {run_command('retrain', cfg, force=True)}", flush=True)
    serve_model(cfg, path, limit=args.limit)
    return 0


def cmd_deploy(args: argparse.Namespace) -> int:
    """Register the deployments in a work pool, for `prefect worker start --pool NAME`."""
    cfg, path = _load(args)
    from driftloop.flows.service import deploy_to_pool

    ids = deploy_to_pool(cfg, path, args.pool, args.image)
    print(f"deployed monitor/{cfg.model.name} and retrain/{cfg.model.name} to pool {args.pool}")
    print(f"  deployment ids: {', '.join(ids)}")
    print(f"  start a worker: prefect worker start --pool {args.pool}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Show the champion, its metrics and the last batches."""
    cfg, _ = _load(args)
    from driftloop.app.status import collect_status, format_status

    status = collect_status(cfg, limit=args.limit)
    print(json.dumps(status, default=str) if args.json else format_status(status))
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    """Point champion back at the previous version."""
    cfg, _ = _load(args)
    from driftloop.flows.options import model_options
    from driftloop.models import connect, rollback

    old, new = rollback(connect(model_options(cfg).store), cfg.model.name, to=args.to)
    print(f"champion of {cfg.model.name}: version {old} -> {new}")
    if os.environ.get("PREFECT_API_URL"):  # a server to tell (embedded mode has none running)
        from driftloop.flows.events import emit_rollback

        emit_rollback(cfg.model.name, old, new)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    """List every recorded alias move, oldest first."""
    cfg, _ = _load(args)
    from driftloop.models.history import moves_from_tags
    from driftloop.models.registry_view import open_view

    model = open_view(cfg.mlflow_uri).model(cfg.model.name)  # no MLflow import
    if model is None:
        print(
            f"(model {cfg.model.name!r} is not registered in {cfg.mlflow_uri} yet: "
            "`driftloop bootstrap --data FILE` makes its first version)"
        )
        return 0
    moves = moves_from_tags(model.tags)
    if args.json:
        for m in moves:
            print(json.dumps(m.__dict__))
        return 0
    print(f"{'when (UTC)':<27} {'alias':<9} {'from':>5} -> {'to':<5} {'trigger':<28} reason")
    for m in moves:
        print(
            f"{m.at:<27} {m.alias:<9} {m.from_version or '-':>5} -> {m.to_version or '-':<5} "
            f"{m.trigger[:28]:<28} {m.reason[:100]}"
        )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Write the drift-over-time page and each batch's own report."""
    cfg, _ = _load(args)
    from driftloop.app.report import write_report

    page = write_report(cfg, Path(args.out) if args.out else None, last=args.last)
    print(f"wrote {page}")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    """Release the model's retrain slot if its holder died; refuse while it is alive."""
    cfg, _ = _load(args)
    from driftloop.flows.slots import unlock

    print(unlock(cfg.model.name))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the whole loop on a generated drifting stream."""
    from driftloop.app.demo import run_demo

    run_demo(Path(args.dir), rows=args.rows, seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every verb."""
    p = argparse.ArgumentParser(prog="driftloop", description=__doc__)
    p.add_argument("--version", action="version", version=version_line())
    p.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    p.add_argument("-q", "--quiet", action="store_true", help=QUIET_HELP)
    sub = p.add_subparsers(dest="command", required=True)

    def verb(
        name: str, func: Any, help: str, config: bool = True, epilog: str | None = None
    ) -> argparse.ArgumentParser:
        sp = sub.add_parser(
            name,
            help=help,
            description=help,
            epilog=epilog,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        sp.set_defaults(func=func)
        # -v and -q also after the verb; SUPPRESS keeps one given before the verb.
        sp.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )
        sp.add_argument(
            "-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=QUIET_HELP
        )
        if config:
            sp.add_argument(
                "--config", help="config file (default: $DRIFTLOOP_CONFIG or ./driftloop.toml)"
            )
        return sp

    sp = verb("init", cmd_init, "write driftloop.toml from a sample CSV or Parquet file", False)
    sp.add_argument("--data", required=True, help="sample data file")
    sp.add_argument("--target", required=True, help="label column")
    sp.add_argument("--name", default="driftloop-model", help="registered model name")
    sp.add_argument("--dir", help="folder for driftloop.toml (default: current)")
    sp.add_argument("--force", action="store_true", help="overwrite an existing driftloop.toml")
    sp.add_argument(
        "--exclude", action="append", metavar="COLUMN", help="never a feature (repeatable)"
    )
    sp.add_argument(
        "--include", action="append", metavar="COLUMN", help="a feature, whatever init guessed"
    )
    sp.add_argument("--task", choices=["classification", "regression"], help="override the guess")
    sp.add_argument("--id-column", metavar="COLUMN", help="the row identifier (kept out)")
    sp.add_argument("--time-column", metavar="COLUMN", help="the date/time column (kept out)")
    sp = verb("bootstrap", cmd_bootstrap, "train and register the first model as champion")
    sp.add_argument("--data", required=True, help="labelled training data (CSV or Parquet)")
    sp.add_argument("--force", action="store_true", help="replace an existing champion")
    sp = verb(
        "run", cmd_run, "process every batch waiting in the landing folder, once", epilog=RUN_CODES
    )
    sp.add_argument("--json", action="store_true", help="one JSON object per batch on stdout")
    sp = verb("requeue", cmd_requeue, "put quarantined batches back in the landing folder")
    sp.add_argument("names", nargs="*", metavar="NAME", help="file name(s) in quarantine/")
    sp.add_argument("--quarantined", action="store_true", help="every batch quarantined for itself")
    sp.add_argument(
        "--reason", metavar="TEXT", help="with --quarantined: only those whose reason holds TEXT"
    )
    sp.add_argument("--json", action="store_true", help="one JSON object per requeued batch")
    sp = verb("retrain", cmd_retrain, "fine-tune the champion on the latest labelled batch now")
    sp.add_argument(
        "--force", action="store_true", help="retrain even if the champion was made from that batch"
    )
    sp.add_argument(
        "--from-scratch",
        action="store_true",
        help="train a new model on replayed plus recent rows instead of fine-tuning",
    )
    sp.add_argument("--json", action="store_true", help="print the outcome as JSON")
    sp = verb("serve", cmd_serve, "serve the monitor (scheduled) and retrain deployments")
    sp.add_argument("--limit", type=int, help="most flow runs at once (default: Prefect's)")
    sp = verb("deploy", cmd_deploy, "register the deployments in a work pool instead of serving")
    sp.add_argument("--pool", required=True, help="an existing Prefect work pool")
    sp.add_argument("--image", help="container image for Docker or Kubernetes pools")
    sp = verb("status", cmd_status, "champion, its metrics, and the last batches")
    sp.add_argument("--json", action="store_true", help="print as JSON")
    sp.add_argument("--limit", type=int, default=10, help="how many recent batches to list")
    sp = verb("rollback", cmd_rollback, "point champion back at the version before it")
    sp.add_argument("--to", help="the version to make champion (default: the one before)")
    sp = verb("history", cmd_history, "every move of the champion and previous aliases")
    sp.add_argument("--json", action="store_true", help="one JSON object per move")
    sp = verb("report", cmd_report, "one HTML page of drift, scores and actions over the batches")
    sp.add_argument("--out", help="folder for the page and batch reports (default: WORK/reports)")
    sp.add_argument("--last", type=int, default=50, help="how many recent batches to show")
    verb("unlock", cmd_unlock, "release the retrain slot a dead (killed) retrain still holds")
    sp = verb("demo", cmd_demo, "run the whole loop on a generated drifting stream", False)
    sp.add_argument("--dir", default="driftloop-demo", help="work folder of the demo (recreated)")
    sp.add_argument("--rows", type=int, default=2000, help="rows per batch")
    sp.add_argument("--seed", type=int, default=0, help="seed of the generated stream")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `driftloop` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # No argv: this process is the command itself (the installed script, `python -m`), not a
    # host calling main in-process (a test): only then may `run` start Prefect's server early.
    args.own_process = argv is None
    if args.verbose and args.quiet:
        parser.error("-v (--verbose) and -q (--quiet) exclude each other; give one")
    verbosity = verbosity_of(args.verbose, args.quiet)
    setup_logging(verbosity)
    show_progress(verbosity == Verbosity.QUIET, steps=args.command != "demo")
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        raise
    except Exception as err:  # ours, or a fault of our stores: one line (-v: the traceback)
        code, line = error_line(system_fault(err) or err)
        print(redact(f"driftloop {args.command}: error: {line}"), file=sys.stderr)
        if args.verbose:
            traceback.print_exception(err, file=sys.stderr)
        return code


if __name__ == "__main__":
    sys.exit(main())
