"""Prefect tasks: one per stage, each a thin call into ingest, drift or models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

import drift
from driftloop.config import Config
from driftloop.errors import DriftloopError
from driftloop.ingest import Admission, Ledger, admit, complete, quarantine
from models import registry
from models.challenger import ChallengeOutcome, challenge
from models.evaluate import accuracy
from models.tracking import log_to_run, start_batch_run


def _transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry unexpected errors (a store briefly unreachable), never driftloop's own verdicts."""
    try:
        state.result()
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


@task(name="ingest", cache_policy=NO_CACHE)
def ingest_task(path: Path, cfg: Config, ledger: Ledger) -> Admission:
    """Hash, dedupe, read and validate a waiting batch; quarantine it if it is bad."""
    adm = admit(path, cfg, ledger)
    get_run_logger().info("%s: %s %s", path.name, adm.status, adm.reason)
    return adm


@task(name="load-champion", **_IO)
def load_champion_task(cfg: Config) -> tuple[MlflowClient, registry.Champion]:
    """Connect to MLflow and load the champion with its profile and replay rows."""
    client = registry.connect(cfg)
    champion = registry.load_champion(cfg, client)
    get_run_logger().info("champion: %s version %s", champion.name, champion.version)
    return client, champion


@task(name="check-labels", cache_policy=NO_CACHE)
def labels_task(
    adm: Admission, champion: registry.Champion, cfg: Config, ledger: Ledger
) -> Admission:
    """Quarantine a labelled batch whose labels include a class the champion does not know."""
    if adm.frame is None or not adm.has_labels:
        return adm
    known = {str(c) for c in champion.meta["classes"]}
    labels = adm.frame[cfg.model.target].astype("str")
    unknown = sorted(set(labels) - known)
    if not unknown:
        return adm
    reason = (
        f"{adm.path.name}: target {cfg.model.target!r} holds {int((~labels.isin(known)).sum())} "
        f"row(s) with class(es) {unknown[:5]} that champion version {champion.version} does not "
        f"know ({sorted(known)}); fix the labels, or bootstrap a model on data with these classes."
    )
    return quarantine(adm, cfg, ledger, reason)


@task(name="score", cache_policy=NO_CACHE)
def score_task(champion: registry.Champion, frame: pd.DataFrame) -> float:
    """Champion accuracy on a labelled batch."""
    return accuracy(champion.model, frame, champion.meta)


@task(name="detect-drift", cache_policy=NO_CACHE)
def drift_task(
    champion: registry.Champion, frame: pd.DataFrame, cfg: Config, batch_accuracy: float | None
) -> drift.DriftReport:
    """Test every feature (and accuracy, when labelled) against the champion's reference."""
    extra = {}
    if batch_accuracy is not None:
        extra[drift.PERFORMANCE_FEATURE] = drift.accuracy_drop_test(
            champion.reference_accuracy, champion.reference_rows, batch_accuracy, len(frame)
        )
    report = drift.detect_drift(
        drift.ReferenceProfile.from_dict(champion.profile),
        frame,
        alpha=cfg.drift.alpha,
        correction=cfg.drift.correction,
        extra=extra,
    )
    verdict = f"DRIFT in {report.drifted_features}" if report.drift else "no drift"
    get_run_logger().info("drift verdict: %s", verdict)
    return report


@task(name="publish-report", cache_policy=NO_CACHE)
def publish_task(report: drift.DriftReport, adm: Admission, run_id: str) -> None:
    """Publish the drift report as Prefect markdown and table artifacts."""
    key = f"drift-{adm.sha256[:12]}"
    create_markdown_artifact(
        markdown=drift.report_markdown(report) + f"\n\nMLflow run: `{run_id}`",
        key=key,
        description=f"Drift report of {adm.path.name}",
    )
    create_table_artifact(
        table=[
            {
                "feature": f.feature,
                "test": f.test,
                "statistic": round(f.statistic, 6),
                "p_value": f.p_value,
                "drifted": f.drifted,
            }
            for f in report.features
        ],
        key=f"{key}-features",
        description=f"Per-feature drift tests of {adm.path.name}",
    )


@task(name="profile", cache_policy=NO_CACHE)
def profile_task(frame: pd.DataFrame, cfg: Config) -> dict[str, Any]:
    """Reference profile of a batch's features, to store with a new version."""
    feats = cfg.features
    return drift.build_profile(
        frame, feats.numeric, feats.categorical, max_values=cfg.drift.profile_max_values
    ).to_dict()


@task(name="track-batch", **_IO)
def track_task(
    adm: Admission,
    champion: registry.Champion,
    report: drift.DriftReport,
    accuracy_before: float | None,
) -> str:
    """Open the batch's MLflow run with its parameters, drift metrics and report files."""
    run_id = start_batch_run(
        adm.path.name,
        params={
            "batch": adm.path.name,
            "sha256": adm.sha256,
            "rows": adm.rows,
            "champion_version": champion.version,
            "labelled": adm.has_labels,
        },
        tags={
            "driftloop.kind": "batch",
            "driftloop.batch_sha256": adm.sha256,
            "driftloop.drift": str(report.drift).lower(),
        },
    )
    metrics = {f"p_value.{f.feature}": f.p_value for f in report.features}
    metrics["drifted_features"] = len(report.drifted_features)
    if accuracy_before is not None:
        metrics["accuracy_before"] = accuracy_before
    log_to_run(
        run_id,
        metrics=metrics,
        json_files={"drift_report.json": report.to_dict()},
        text_files={"drift_report.md": drift.report_markdown(report)},
    )
    return run_id


@task(name="challenge", cache_policy=NO_CACHE)
def challenge_task(
    champion: registry.Champion,
    frame: pd.DataFrame,
    profile: dict[str, Any],
    cfg: Config,
    client: MlflowClient,
    run_id: str,
    tags: dict[str, str],
) -> ChallengeOutcome:
    """Fine-tune the champion, gate the challenger on a holdout, register it, promote if better."""
    outcome = challenge(champion, frame, profile, cfg, client, run_id, tags)
    get_run_logger().info("challenger v%s: %s", outcome.challenger_version, outcome.decision.reason)
    return outcome


@task(name="complete", cache_policy=NO_CACHE)
def complete_task(adm: Admission, cfg: Config, ledger: Ledger, result: dict[str, Any]) -> Admission:
    """Move the batch to processed/ and record its outcome in the ledger."""
    return complete(adm, cfg, ledger, result)
