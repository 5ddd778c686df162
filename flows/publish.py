"""What a batch's run shows in Prefect: one report (verdict, per-feature table, the MLflow run)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext
from prefect.runtime import flow_run, task_run

import driftloop.flows.embedded  # noqa: F401  (the embedded server's port, before Prefect runs)
from driftloop import drift
from driftloop.core.errors import DriftloopError
from driftloop.core.records import BatchRecord, Status
from driftloop.ingest import Admission

# One artifact per batch (each is one round trip to the server): the markdown report holds the
# per-feature table and the link to the batch's MLflow run, which were two more artifacts.
KINDS = ("drift-report",)


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
    record: BatchRecord | None = None,
) -> None:
    """Publish the drift report (markdown: verdict, table, the action, the estimate, the link)."""
    create_markdown_artifact(
        markdown=f"# {adm.path.name}\n\n"
        + drift.report_markdown(report, action_taken(record) if record else None)
        + estimate_line(record)
        + f"\n\nMLflow run: [{run_id}]({run_link})",
        key=artifact_key(model, "drift-report"),
        description=f"Drift report of {adm.path.name}: {_outcome(report, record)} "
        f"(sha256 {adm.sha256[:12]})",
    )


def _outcome(report: drift.DriftReport, record: BatchRecord | None) -> str:
    """The verdict, and the action once known: what the artifacts list says of a batch."""
    verdict = "drift" if report.drift else "no drift"
    return verdict if record is None else f"{verdict}, action {record.action.value}"


def estimate_line(record: BatchRecord | None) -> str:
    """The champion's estimated accuracy and band (and the realized one, when labelled).

    Examples:
        >>> r = BatchRecord("b.csv", "processed", estimated_score=0.91, estimate_low=0.89,
        ...                 estimate_high=0.93, metric="accuracy", score_batch=0.9)
        >>> estimate_line(r)
        '\\n\\nEstimated accuracy (label-free): 0.9100 [0.8900, 0.9300]; realized 0.9000'
    """
    if record is None or record.estimated_score is None:
        return ""
    line = (
        f"\n\nEstimated accuracy (label-free): {record.estimated_score:.4f} "
        f"[{record.estimate_low or 0.0:.4f}, {record.estimate_high or 0.0:.4f}]"
    )
    if record.score_batch is not None and record.metric == "accuracy":
        line += f"; realized {record.score_batch:.4f}"
    return line


def batch_run_name() -> str:
    """`process-batch/<file name>`: the name of a batch's task run in the Prefect UI."""
    path = str(task_run.parameters.get("path", ""))
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
    run = FlowRunContext.get()
    if run is None or run.flow_run is None or set(tags) <= set(run.flow_run.tags):
        return  # no run, or tagged so already (when it was created): no round trip
    wanted = sorted({*run.flow_run.tags, *tags})
    with get_client(sync_client=True) as client:
        client.update_flow_run(run.flow_run.id, tags=wanted)
    run.flow_run.tags = wanted


def run_tags(model: str) -> list[str]:
    """The tags every flow run of a model carries, so the Prefect UI can filter by model."""
    return ["driftloop", f"model:{model}"]


def outcome_tags(records: list[BatchRecord]) -> list[str]:
    """The verdicts and actions of a run's batches, as tags of the monitor run (sorted, once each).

    Examples:
        >>> drifted = BatchRecord("a.csv", "processed", drift=True, action="promoted")
        >>> outcome_tags([drifted, BatchRecord("b.csv", "processed")])
        ['action:none', 'action:promoted', 'verdict:drift', 'verdict:no-drift']
    """
    tags = set()
    for record in records:
        verdict = "drift" if record.drift else "no-drift"
        if record.status != Status.PROCESSED:
            verdict = record.status.value
        tags |= {f"verdict:{verdict}", f"action:{record.action.value}"}
    return sorted(tags)
