"""A champion at risk: an unlabelled batch's estimated accuracy fell below its reference."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from driftloop.models.registry import TAG

AT_RISK_TAG = TAG + "at_risk"


def mark_at_risk(client: MlflowClient, name: str, version: str, batch: str, reason: str) -> None:
    """Tag the version at risk, naming the batch and why (the latest batch wins)."""
    client.set_model_version_tag(name, version, AT_RISK_TAG, f"{batch}: {reason}"[:5000])
