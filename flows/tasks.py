"""Prefect tasks: one per stage, each a thin call into ingest, drift or models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from mlflow.tracking import MlflowClient
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

import drift
from driftloop.config import Config
from driftloop.ingest import Admission, Ledger, admit, complete
from models import registry
from models.challenger import ChallengeOutcome, challenge
from models.evaluate import accuracy
from models.tracking import log_to_run, start_batch_run

# Talking to MLflow or the file system can fail for a moment: retry those tasks.
_IO = {"retries": 2, "retry_delay_seconds": [2, 10], "cache_policy": NO_CACHE}


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


@task(name="challenge", **_IO)
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
