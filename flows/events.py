"""Event-driven retraining: the batch flow announces drift, the retrain deployment listens.

With `[prefect] retrain = "event"` a drifted, labelled batch does not retrain inside its own
run: the batch flow emits `driftloop.drift.detected` about the model, and the retrain
deployment's trigger (a Prefect automation) starts a retrain run on that batch. The model's
retrain limit (flows.slots) still keeps those runs one at a time.
"""

from __future__ import annotations

from prefect.events import emit_event
from prefect.events.schemas.automations import Posture
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

from driftloop.core.records import BatchRecord

DRIFT_EVENT = "driftloop.drift.detected"


def model_resource(model: str, labelled: bool, retrain: bool) -> dict[str, str]:
    """The Prefect resource a model's events are about; `retrain`: the drift calls for one."""
    return {
        "prefect.resource.id": f"driftloop.model.{model}",
        "prefect.resource.name": model,
        "driftloop.labelled": str(labelled).lower(),
        "driftloop.retrain": str(retrain).lower(),
    }


def emit_drift(model: str, record: BatchRecord, report_link: str, retrain: bool) -> str:
    """Announce that a batch drifted; return the event's id ("" when Prefect dropped it)."""
    event = emit_event(
        event=DRIFT_EVENT,
        resource=model_resource(model, record.labelled, retrain),
        payload={
            "batch": record.batch,
            "sha256": record.sha256,
            "drifted_features": record.drifted_features,
            "champion_version": record.champion_version,
            "mlflow_run_id": record.mlflow_run_id,
            "report": report_link,
            "flow_run_id": record.flow_run_id,
        },
    )
    return "" if event is None else str(event.id)


def drift_trigger(model: str) -> DeploymentEventTrigger:
    """The retrain deployment's trigger: one retrain run per drift event that calls for one."""
    return DeploymentEventTrigger(
        name=f"driftloop: retrain {model} on drift",
        description=f"Retrain {model} on each labelled batch whose drift calls for a retrain.",
        expect={DRIFT_EVENT},
        match={"prefect.resource.id": f"driftloop.model.{model}", "driftloop.retrain": "true"},
        posture=Posture.Reactive,
        threshold=1,
        parameters={"batch_sha256": "{{ event.payload.sha256 }}", "trigger": "drift-event"},
    )
