"""History of alias moves: MLflow overwrites aliases in place, so every move is recorded here.

Each move is a tag on the registered model, ``driftloop.move.<UTC time>``, holding JSON with the
alias, the version it left and the one it now points at, what triggered it and why. The
history lives in the tracking store itself, beside the aliases it explains.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # reading moves from tags needs no MLflow (`driftloop history`)
    from mlflow.tracking import MlflowClient

CHAMPION = "champion"
PREVIOUS = "previous"
PREFIX = "driftloop.move."
REJECTIONS = "driftloop.consecutive_rejections"


@dataclass(frozen=True)
class AliasMove:
    """One move of one alias."""

    at: str
    alias: str
    from_version: str | None
    to_version: str | None
    trigger: str
    reason: str


def record_move(
    client: MlflowClient,
    name: str,
    alias: str,
    from_version: str | None,
    to_version: str | None,
    trigger: str,
    reason: str,
) -> AliasMove:
    """Store one alias move as a registered-model tag."""
    now = datetime.now(UTC)
    move = AliasMove(
        now.isoformat(timespec="microseconds"),
        alias,
        from_version,
        to_version,
        trigger,
        reason[:4000],
    )
    key = PREFIX + now.strftime("%Y%m%dT%H%M%S%fZ") + "." + alias
    client.set_registered_model_tag(name, key, json.dumps(asdict(move)))
    return move


def list_moves(client: MlflowClient, name: str) -> list[AliasMove]:
    """Every recorded alias move of a model, oldest first."""
    return moves_from_tags(client.get_registered_model(name).tags)


def moves_from_tags(tags: Mapping[str, str]) -> list[AliasMove]:
    """The alias moves recorded in a registered model's tags, oldest first."""
    moves = [AliasMove(**json.loads(v)) for k, v in tags.items() if k.startswith(PREFIX)]
    return sorted(moves, key=lambda m: m.at)


def rejections(client: MlflowClient, name: str) -> int:
    """How many challengers in a row the gate has rejected."""
    return int(client.get_registered_model(name).tags.get(REJECTIONS, "0"))


def count_rejection(client: MlflowClient, name: str, rejected: bool) -> int:
    """Add one to the run of rejections, or reset it after a promotion; return the new count."""
    value = rejections(client, name) + 1 if rejected else 0
    client.set_registered_model_tag(name, REJECTIONS, str(value))
    return value
