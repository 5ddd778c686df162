"""Models: the Keras model, training and fine-tuning, replay, the gate, the MLflow registry.

Importing this package does not import TensorFlow; Keras loads on first use of a model.
"""

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
