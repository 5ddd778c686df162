"""Prefect tasks: one per stage, each a thin call into ingest, drift or models."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

import pandas as pd
from prefect import Task, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.tasks import exponential_backoff

from driftloop import drift
from driftloop.core.config import Config
from driftloop.core.errors import DriftloopError, TrackingUnreachable
from driftloop.core.records import BatchRecord
from driftloop.flows.context import RunContext
from driftloop.flows.dask import drift_executor, on_dask
from driftloop.flows.lean import lean
from driftloop.flows.publish import action_taken, report_files
from driftloop.ingest import (
    Admission,
    Ledger,
    admit,
    complete,
    quarantine,
    unknown_labels,
    unseen_category_flood,
)
from driftloop.models.challenger import ChallengeOutcome, ChallengeRequest, challenge
from driftloop.models.champion import Champion
from driftloop.models.evaluate import Predicted, predicted
from driftloop.models.options import ModelOptions, ProfileOptions, ReplayOptions
from driftloop.models.performance import performance_test
from driftloop.models.replay_store import add_batch
from driftloop.models.tracking import (
    check_tracking,
    log_batch_input,
    open_batch_run,
    run_link,
    start_batch_run,
)

P = ParamSpec("P")
R = TypeVar("R")


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry an unreachable tracking server and unexpected errors, never driftloop's verdicts."""
    try:
        state.result()
    except TrackingUnreachable:
        return True
    except (DriftloopError, drift.DriftError):
        return False
    except Exception:
        return True
    return False


# Talking to MLflow or the file system can fail for a moment: retry those tasks.
_IO: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [2, 10],
    "retry_condition_fn": _transient,
    "cache_policy": NO_CACHE,
}


def io(t: Task[P, R], cfg: Config) -> Callable[P, R]:
    """The task (called `lean`) with `[prefect] io_retries`, waiting d, 2d, 4d ... seconds."""
    p = cfg.prefect
    if not p.io_retries:
        return lean(t.with_options(retries=0, retry_delay_seconds=0))
    delays = exponential_backoff(p.io_retry_delay_seconds)(p.io_retries)
    return lean(
        t.with_options(retries=p.io_retries, retry_delay_seconds=delays, retry_jitter_factor=0.2)
    )


@task(name="check-tracking", **_IO)
def check_tracking_task(uri: str) -> None:
    """Fail (TrackingUnreachable, retried with backoff) unless the MLflow server answers."""
    check_tracking(uri)


@task(name="ingest", cache_policy=NO_CACHE)
def ingest_task(path: str, cfg: Config, ledger: Ledger) -> Admission:
    """Hash, dedupe, read and validate a waiting batch; quarantine it if it is bad."""
    adm = admit(path, cfg, ledger, flow_run_id=str(flow_run.get_id() or ""))
    get_run_logger().info("%s: %s %s", adm.path.name, adm.status, adm.reason)
    return adm


@task(name="load-champion", **_IO)
def load_champion_task(ctx: RunContext) -> Champion:
    """The serving champion with its profile and replay rows (loaded once per version)."""
    champion = ctx.champion()
    get_run_logger().info("champion: %s version %s", champion.name, champion.version)
    return champion


def check_labels(adm: Admission, champion: Champion, cfg: Config, ledger: Ledger) -> Admission:
    """Quarantine a batch with label classes or a flood of categories the champion never saw.

    A step of the batch's task run, not a task run of its own: a task run costs the embedded
    server 25-50 ms of CPU (its state events), more than this check.
    """
    if adm.frame is None:
        return adm
    profile = champion.reference
    known = {col: list(counts) for col, counts in profile.categorical.items()}
    why = unseen_category_flood(
        adm.frame, adm.path.name, known, cfg.ingest.max_unseen_share, champion.version
    )
    if not why and adm.has_labels and "classes" in champion.meta:  # a regressor has no classes
        why = unknown_labels(
            adm.frame, adm.path.name, cfg.model.target, champion.meta["classes"], champion.version
        )
    return quarantine(adm, cfg, ledger, why) if why else adm


@task(name="predict", cache_policy=NO_CACHE)
def predict_task(champion: Champion, frame: pd.DataFrame, labelled: bool) -> Predicted:
    """The champion's outputs on the batch, once (and its errors when labelled)."""
    return predicted(champion.model, frame, champion.meta, labelled)


def drift_check(
    champion: Champion, frame: pd.DataFrame, seen: Predicted, ctx: RunContext
) -> drift.DriftReport:
    """The drift computation alone: every feature, and the model's errors when labelled (its
    estimated accuracy when not: realized accuracy, once known, is the better test)."""
    extra = {}
    if seen.errors is not None:
        extra[drift.PERFORMANCE_FEATURE] = performance_test(champion, seen.errors)
    elif seen.estimate is not None:
        extra[drift.ESTIMATE_FEATURE] = drift.estimate_test(seen.estimate)
    profile = champion.reference
    # A classifier's reference profile holds its predictions: test prediction drift too.
    predictions = seen.outputs if profile.prediction is not None else None
    return drift.detect_drift(
        profile,
        frame,
        ctx.drift,
        extra=extra,
        batch_predictions=predictions,
        executor=drift_executor(ctx.cfg, len(frame)),
    )


@task(name="detect-drift", cache_policy=NO_CACHE)
def drift_task(
    champion: Champion, frame: pd.DataFrame, seen: Predicted, ctx: RunContext
) -> drift.DriftReport:
    """Test every feature (and the model's errors, when labelled) against the reference."""
    if drift_executor(ctx.cfg, len(frame)) is None:
        report = drift_check(champion, frame, seen, ctx)
    else:  # each feature's test a task run on the Dask cluster
        report = on_dask(ctx.cfg, lambda: drift_check(champion, frame, seen, ctx))
    verdict = f"DRIFT in {report.drifted_features}" if report.drift else "no drift"
    get_run_logger().info("drift verdict: %s", verdict)
    return report


@task(name="profile", cache_policy=NO_CACHE)
def profile_task(frame: pd.DataFrame, opts: ModelOptions) -> dict[str, Any]:
    """Reference profile of a batch's features, to store with a new version."""
    spec, p = opts.spec, opts.profile
    return profile_of(frame, spec.numeric, spec.categorical, p)


def profile_of(
    frame: pd.DataFrame, numeric: Any, categorical: Any, p: ProfileOptions
) -> dict[str, Any]:
    """A frame's reference profile, as stored with a version."""
    return drift.build_profile(
        frame, numeric, categorical, max_values=p.max_values, joint_rows=p.joint_rows
    ).to_dict()


@task(name="open-batch-run", **_IO)
def open_run_task(ctx: RunContext, adm: Admission, report: drift.DriftReport) -> str:
    """Open the batch's MLflow run before a challenge (the new version's lineage names it)."""
    return open_batch_run(
        ctx.client, ctx.options.store.experiment, adm.path.name, _batch_tags(adm, report)
    )


@task(name="track-batch", **_IO)
def track_task(
    ctx: RunContext,
    adm: Admission,
    champion: Champion,
    report: drift.DriftReport,
    record: BatchRecord,
    step: int,
    estimate: drift.Estimate | None = None,
) -> tuple[str, str]:
    """The batch's MLflow run, written once its action is known (metrics at `step`, its data,
    the report with the action); its id and link. It fills the run `open_run_task` opened."""
    if not record.mlflow_run_id:  # kept on the record: a retry fills the run made before
        record.mlflow_run_id = open_run_task.fn(ctx, adm, report)
    run_id = start_batch_run(
        ctx.client,
        ctx.options.store.experiment,
        adm.path.name,
        params={
            "batch": adm.path.name,
            "sha256": adm.sha256,
            "rows": adm.rows,
            "rows_used": 0 if adm.frame is None else len(adm.frame),
            "champion_version": champion.version,
            "labelled": adm.has_labels,
        },
        tags={"driftloop.action": record.action.value},
        metrics=_batch_metrics(report, record, estimate),
        json_files={"drift_report.json": report.to_dict()},
        text_files=report_files(report, adm.path.name, action_taken(record)),
        step=step,
        run_id=record.mlflow_run_id,
    )
    if adm.frame is not None:
        source = ctx.zone.url(adm.source) if adm.source else adm.path.name
        target = ctx.options.spec.target
        digest = adm.sha256[:16]  # the batch file's own hash, as the ledger has it
        log_batch_input(ctx.client, run_id, adm.frame, adm.path.name, source, target, digest)
    return run_id, run_link(ctx.client, run_id)


def _batch_tags(adm: Admission, report: drift.DriftReport) -> dict[str, str]:
    """The tags a batch's run is created with."""
    return {
        "driftloop.kind": "batch",
        "driftloop.batch_sha256": adm.sha256,
        "driftloop.drift": str(report.drift).lower(),
    }


def _batch_metrics(
    report: drift.DriftReport, record: BatchRecord, estimate: drift.Estimate | None
) -> dict[str, float]:
    """A batch's metrics: each feature's p-value, the champion's score before and after, the
    label-free estimate."""
    metrics: dict[str, float] = {f"p_value.{f.feature}": f.p_value for f in report.features}
    metrics["drifted_features"] = len(report.drifted_features)
    if record.score_batch is not None:
        metrics["accuracy_before"] = record.score_batch
    if record.score_after is not None:
        metrics["accuracy_after"] = record.score_after
    if estimate is not None:
        metrics["estimated_accuracy"] = estimate.value
        metrics["estimated_accuracy_low"], metrics["estimated_accuracy_high"] = (
            estimate.low,
            estimate.high,
        )
    return metrics


@task(name="replay", cache_policy=NO_CACHE)
def replay_task(
    opts: ReplayOptions, target: str, champion: Champion, frame: pd.DataFrame, sha256: str
) -> int:
    """Add a labelled batch to the live replay reservoir; return the buffer's row count."""
    return len(add_batch(opts, target, champion, frame, sha256).frame)


@task(name="challenge", cache_policy=NO_CACHE)
def challenge_task(
    champion: Champion,
    frame: pd.DataFrame,
    profile: dict[str, Any],
    ctx: RunContext,
    request: ChallengeRequest,
    champion_errors: Any = None,
) -> ChallengeOutcome:
    """Fine-tune the champion, gate the challenger on a holdout, register it, promote if better."""
    outcome = challenge(champion, frame, profile, ctx.options, ctx.client, request, champion_errors)
    get_run_logger().info("challenger v%s: %s", outcome.challenger_version, outcome.decision.reason)
    return outcome


@task(name="complete", cache_policy=NO_CACHE)
def complete_task(adm: Admission, cfg: Config, ledger: Ledger, record: BatchRecord) -> Admission:
    """Move the batch to processed/ and record its outcome (the manifest record) in the ledger."""
    return complete(adm, cfg, ledger, record.to_dict())
