"""What a batch's run shows in Prefect: the drift report, its per-feature table, the MLflow run."""

from __future__ import annotations

import re
from pathlib import PurePosixPath
from uuid import UUID

from prefect import task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from driftloop import drift
from driftloop.core.errors import DriftloopError
from driftloop.core.records import BatchRecord, Status
from driftloop.ingest import Admission

KINDS = ("drift-report", "drift-features", "mlflow-run")


def artifact_key(model: str, kind: str) -> str:
    """Key of one kind of a model's batch artifacts: every batch adds a version to its history.

    Prefect keys are lower-case letters, digits and dashes, so other characters become dashes.

    Examples:
        >>> artifact_key("Churn_Model v2", "drift-report")
        'churn-model-v2-drift-report'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-") or "model"
    return f"{slug}-{kind}"


def action_taken(record: BatchRecord) -> drift.ActionTaken:
    """What the batch's report says was done: the record's action, its reason, the challenger."""
    return drift.ActionTaken(record.action.value, record.reason, record.challenger_version)


def report_files(
    report: drift.DriftReport, batch: str, taken: drift.ActionTaken | None = None
) -> dict[str, str]:
    """The batch's report as its MLflow run's markdown and HTML (with the action, if known)."""
    return {
        "drift_report.md": drift.report_markdown(report, taken),
        "drift_report.html": drift.report_html(report, f"Drift report of {batch}", taken),
    }


@task(name="publish-report", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 4])
def publish_task(
    model: str,
    report: drift.DriftReport,
    adm: Admission,
    run_id: str,
    run_link: str,
    taken: drift.ActionTaken | None = None,
) -> None:
    """Publish the drift report (markdown, with the action), its table and the MLflow run's link."""
    key = {kind: artifact_key(model, kind) for kind in KINDS}
    create_markdown_artifact(
        markdown=f"# {adm.path.name}\n\n"
        + drift.report_markdown(report, taken)
        + f"\n\nMLflow run: [{run_id}]({run_link})",
        key=key["drift-report"],
        description=f"Drift report of {adm.path.name} (sha256 {adm.sha256[:12]})",
    )
    create_table_artifact(
        table=[
            {
                "feature": f.feature,
                "test": f.test,
                "statistic": round(f.statistic, 6),
                "p_value": f.p_value,
                "effect_size": None if f.effect_size is None else round(f.effect_size, 6),
                "drifted": f.drifted,
            }
            for f in report.features
        ],
        key=key["drift-features"],
        description=f"Per-feature drift tests of {adm.path.name}",
    )
    create_link_artifact(
        link=run_link,
        link_text=f"MLflow run {run_id} of {adm.path.name}",
        key=key["mlflow-run"],
        description=f"MLflow run of {adm.path.name}: metrics, drift report files, model version",
    )


def batch_run_name() -> str:
    """`process-batch/<file name>`: the name of a batch's flow run in the Prefect UI."""
    path = str(flow_run.parameters.get("path", ""))
    return f"process-batch/{PurePosixPath(path).name}"


def monitor_run_name() -> str:
    """The model's name: a monitor flow run's name in the Prefect UI (not a random word pair)."""
    from driftloop.core.config import load_config

    try:
        return load_config(flow_run.parameters.get("config_path")).model.name
    except (DriftloopError, OSError):  # the flow itself reports the config's problem
        return "monitor"


def tag_this_run(tags: list[str]) -> None:
    """Add `tags` to the current flow run (the UI's run list shows them and filters by them)."""
    run_id = flow_run.get_id()
    if not run_id:
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(UUID(run_id), tags=sorted({*flow_run.tags, *tags}))


def run_tags(model: str) -> list[str]:
    """The tags every flow run of a model carries, so the Prefect UI can filter by model."""
    return ["driftloop", f"model:{model}"]


def tag_outcome(record: BatchRecord) -> None:
    """Add the batch's verdict and action to its flow run's tags (the UI's run list shows them)."""
    run_id = flow_run.get_id()
    if not run_id:
        return
    verdict = "drift" if record.drift else "no-drift"
    if record.status != Status.PROCESSED:
        verdict = record.status.value
    tags = [*flow_run.tags, f"verdict:{verdict}", f"action:{record.action.value}"]
    with get_client(sync_client=True) as client:
        client.update_flow_run(UUID(run_id), tags=sorted(set(tags)))
