"""What a batch's run shows in Prefect: the drift report, its per-feature table, the MLflow run."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from driftloop import drift
from driftloop.ingest import Admission


def artifact_key(sha256: str) -> str:
    """Key of a batch's drift report artifact (its table and link add -features and -mlflow-run)."""
    return f"drift-{sha256[:12]}"


@task(name="publish-report", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[1, 4])
def publish_task(report: drift.DriftReport, adm: Admission, run_id: str, run_link: str) -> None:
    """Publish the drift report (markdown), its per-feature table and a link to the MLflow run."""
    key = artifact_key(adm.sha256)
    create_markdown_artifact(
        markdown=drift.report_markdown(report) + f"\n\nMLflow run: [{run_id}]({run_link})",
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
                "effect_size": None if f.effect_size is None else round(f.effect_size, 6),
                "drifted": f.drifted,
            }
            for f in report.features
        ],
        key=f"{key}-features",
        description=f"Per-feature drift tests of {adm.path.name}",
    )
    create_link_artifact(
        link=run_link,
        link_text=f"MLflow run {run_id}",
        key=f"{key}-mlflow-run",
        description=f"MLflow run of {adm.path.name}: metrics, drift report files, model version",
    )
