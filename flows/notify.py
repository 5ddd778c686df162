"""Notifications: a Prefect automation that calls a webhook when a model's event happens.

driftloop emits its events (flows/events.py) in every mode; an automation on the Prefect
server turns one into a call of a webhook block, or a message through a notification block
(Slack, e-mail, Microsoft Teams...). `webhook_automation` builds the one for a webhook;
deploy/README.md ("Notifications") shows how to create it and how to send the same to Slack or
e-mail instead.
"""

from __future__ import annotations

import json
from uuid import UUID

from prefect.events.actions import CallWebhook
from prefect.events.schemas.automations import AutomationCore, EventTrigger, Posture

from driftloop.flows.events import PROMOTED_EVENT

FIELDS = (
    "batch",
    "champion_version",
    "challenger_version",
    "action",
    "reason",
    "metric",
    "score_before",
    "score_after",
    "mlflow_run_id",
    "report",
)
"""The payload fields a notification passes on."""


def webhook_payload() -> str:
    """The JSON body the webhook receives: the event, the model and the batch's outcome."""
    body = {
        "event": "{{ event.event }}",
        "model": "{{ event.resource['prefect.resource.name'] }}",
        "occurred": "{{ event.occurred }}",
        **{key: "{{ event.payload." + key + " }}" for key in FIELDS},
    }
    return json.dumps(body)


def webhook_automation(
    model: str, block_document_id: UUID, event: str = PROMOTED_EVENT
) -> AutomationCore:
    """An automation that calls the webhook block each time `event` happens to `model`."""
    return AutomationCore(
        name=f"driftloop: {event} of {model} -> webhook",
        description=f"Calls a webhook each time {event} is emitted about {model}.",
        trigger=EventTrigger(
            expect={event},
            match={"prefect.resource.id": f"driftloop.model.{model}"},
            posture=Posture.Reactive,
            threshold=1,
        ),
        actions=[CallWebhook(block_document_id=block_document_id, payload=webhook_payload())],
    )
