"""Models: the Keras model, training and fine-tuning, replay, the gate, the MLflow registry.

Importing this package imports neither TensorFlow nor MLflow: the names below load from their
modules on first use, so `driftloop.models.registry_view` (what `status` and `history` read
the registry with) stays light. Keras loads on first use of a model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftloop.core.lazy import make_lazy

if TYPE_CHECKING:  # what the names are, for type checkers; loaded on first use at run time
    from driftloop.models.bootstrap import bootstrap_model
    from driftloop.models.challenger import ChallengeOutcome, ChallengeRequest, challenge
    from driftloop.models.champion import Champion, load_champion, load_version
    from driftloop.models.evaluate import accuracy, errors, metric_name, score
    from driftloop.models.finetune import finetune
    from driftloop.models.gate import GateDecision, judge
    from driftloop.models.history import AliasMove, list_moves
    from driftloop.models.options import ModelOptions, ModelSpec, Store
    from driftloop.models.registry import (
        CHAMPION,
        PREVIOUS,
        alias_version,
        connect,
        promote,
        rollback,
    )
    from driftloop.models.replay import ReplayBuffer, merge_replay, replay_sample
    from driftloop.models.train import TrainedModel, train_from_scratch
    from driftloop.models.trigger import Trigger, retrain_trigger

_HOME = {
    "CHAMPION": "registry",
    "PREVIOUS": "registry",
    "AliasMove": "history",
    "ChallengeOutcome": "challenger",
    "ChallengeRequest": "challenger",
    "Champion": "champion",
    "GateDecision": "gate",
    "ModelOptions": "options",
    "ModelSpec": "options",
    "ReplayBuffer": "replay",
    "Store": "options",
    "TrainedModel": "train",
    "Trigger": "trigger",
    "accuracy": "evaluate",
    "alias_version": "registry",
    "bootstrap_model": "bootstrap",
    "challenge": "challenger",
    "connect": "registry",
    "errors": "evaluate",
    "finetune": "finetune",
    "judge": "gate",
    "list_moves": "history",
    "load_champion": "champion",
    "load_version": "champion",
    "merge_replay": "replay",
    "metric_name": "evaluate",
    "promote": "registry",
    "replay_sample": "replay",
    "retrain_trigger": "trigger",
    "rollback": "registry",
    "score": "evaluate",
    "train_from_scratch": "train",
}

__all__ = [
    "CHAMPION",
    "PREVIOUS",
    "AliasMove",
    "ChallengeOutcome",
    "ChallengeRequest",
    "Champion",
    "GateDecision",
    "ModelOptions",
    "ModelSpec",
    "ReplayBuffer",
    "Store",
    "TrainedModel",
    "Trigger",
    "accuracy",
    "alias_version",
    "bootstrap_model",
    "challenge",
    "connect",
    "errors",
    "finetune",
    "judge",
    "list_moves",
    "load_champion",
    "load_version",
    "merge_replay",
    "metric_name",
    "promote",
    "replay_sample",
    "retrain_trigger",
    "rollback",
    "score",
    "train_from_scratch",
]


make_lazy(__name__, _HOME)
