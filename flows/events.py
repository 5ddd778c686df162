"""driftloop's Prefect events: what happened to a model, for automations and notifications.

Every run emits them, in every mode (embedded or a server), each about the model
(`prefect.resource.id` = `driftloop.model.<name>`) with a payload a receiver can use:

| event | when |
|---|---|
| `driftloop.drift.detected` | a batch drifted |
| `driftloop.challenger.promoted` | a challenger passed the gate and is champion now |
| `driftloop.challenger.rejected` | a challenger failed the gate; the champion stays |
| `driftloop.champion.recalled` | an earlier champion fits the batch again and serves again |
| `driftloop.batch.quarantined` | a batch went to quarantine (its reason in the payload) |
| `driftloop.champion.rolled-back` | `driftloop rollback` moved the champion back |

With `[prefect] retrain = "event"` a drifted, labelled batch does not retrain inside its own
run: its drift event carries the resource label `driftloop.retrain = "true"` and the retrain
deployment's trigger (a Prefect automation) starts a retrain run on that batch. The model's
retrain limit (flows.slots) still keeps those runs one at a time. A notification is an
automation on one of these events (deploy/README.md, "Notifications").
"""

from __future__ import annotations

from typing import Any

from prefect.events import emit_event
from prefect.events.schemas.automations import Posture
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger

from driftloop.core.records import Action, BatchRecord, Status

DRIFT_EVENT = "driftloop.drift.detected"
PROMOTED_EVENT = "driftloop.challenger.promoted"
REJECTED_EVENT = "driftloop.challenger.rejected"
RECALLED_EVENT = "driftloop.champion.recalled"
QUARANTINED_EVENT = "driftloop.batch.quarantined"
ROLLBACK_EVENT = "driftloop.champion.rolled-back"
ACTION_EVENTS = {
    Action.PROMOTED: PROMOTED_EVENT,
    Action.REJECTED: REJECTED_EVENT,
    Action.RECALLED: RECALLED_EVENT,
}


def model_resource(model: str, labelled: bool = False, retrain: bool = False) -> dict[str, str]:
    """The Prefect resource a model's events are about; `retrain`: the drift calls for one."""
    return {
        "prefect.resource.id": f"driftloop.model.{model}",
        "prefect.resource.name": model,
        "driftloop.labelled": str(labelled).lower(),
        "driftloop.retrain": str(retrain).lower(),
    }


def _emit(event: str, resource: dict[str, str], payload: dict[str, Any]) -> str:
    """Emit one event; its id ("" when Prefect dropped it)."""
    sent = emit_event(event=event, resource=resource, payload=payload)
    return "" if sent is None else str(sent.id)


def record_payload(record: BatchRecord, report_link: str) -> dict[str, Any]:
    """What a receiver gets about a batch: its record, and where its report and run are."""
    return {**record.to_dict(), "report": report_link}


def emit_drift(model: str, record: BatchRecord, report_link: str, retrain: bool) -> str:
    """Announce that a batch drifted; `retrain`: the retrain deployment should act on it."""
    resource = model_resource(model, record.labelled, retrain)
    return _emit(DRIFT_EVENT, resource, record_payload(record, report_link))


def emit_outcome(model: str, record: BatchRecord, report_link: str) -> list[str]:
    """Announce what was done about a batch: promoted, rejected, recalled or quarantined."""
    payload = record_payload(record, report_link)
    if record.status == Status.QUARANTINED or record.action == Action.QUARANTINED:
        return [_emit(QUARANTINED_EVENT, model_resource(model, record.labelled), payload)]
    return emit_challenge(model, record.action, payload)


def emit_challenge(model: str, action: Action, payload: dict[str, Any]) -> list[str]:
    """Announce a challenge's outcome (promoted, rejected or recalled; nothing for others)."""
    name = ACTION_EVENTS.get(action)
    return [] if name is None else [_emit(name, model_resource(model, True), payload)]


def emit_rollback(model: str, from_version: str, to_version: str) -> str:
    """Announce that the champion was moved back by hand."""
    payload = {"from_version": from_version, "to_version": to_version}
    return _emit(ROLLBACK_EVENT, model_resource(model), payload)


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
