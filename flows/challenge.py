"""One challenge of the champion, as every trigger runs it: profile the batch, challenge, record.

The drifted batch of `process_batch` and the manual or event-started `retrain` both come
here, inside the model's retrain slot (flows/slots.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from driftloop.core.records import Action
from driftloop.flows.context import RunContext
from driftloop.flows.lean import lean
from driftloop.flows.tasks import challenge_task, profile_task
from driftloop.models.challenger import ChallengeOutcome, ChallengeRequest
from driftloop.models.champion import Champion

RECALL_TRIGGERS = ("drift", "drift-event", "late-labels")
"""Triggers that try the earlier champions first; a manual retrain always trains."""


@dataclass(frozen=True)
class Challenged:
    """What a challenge did, in the terms of a batch record."""

    action: Action
    reason: str
    challenger_version: str
    champion_version: str
    kind: str
    score_before: float
    score_after: float


def challenge_batch(
    ctx: RunContext,
    champion: Champion,
    frame: pd.DataFrame,
    request: ChallengeRequest,
    champion_errors: np.ndarray | None = None,
) -> Challenged:
    """Challenge the champion with a labelled batch (the caller holds the retrain slot)."""
    profile = lean(profile_task)(frame, ctx.options)
    outcome: ChallengeOutcome = lean(challenge_task)(
        champion, frame, profile, ctx, request, champion_errors
    )
    d = outcome.decision
    return Challenged(
        Action(outcome.action),
        d.reason,
        outcome.challenger_version,
        outcome.champion_version,
        outcome.kind,
        d.champion_new,
        d.challenger_new if d.promote else d.champion_new,
    )


def request_for(
    batch: str, sha256: str, run_id: str, trigger: str, from_scratch: bool = False
) -> ChallengeRequest:
    """The request of a trigger: drift-started ones try the earlier champions first."""
    return ChallengeRequest(
        batch, sha256, run_id, trigger, from_scratch, recall_first=trigger in RECALL_TRIGGERS
    )
