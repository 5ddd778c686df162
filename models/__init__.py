"""Models: the Keras classifier, training and fine-tuning, the promotion gate, the MLflow registry.

Importing this package does not import TensorFlow; Keras loads on first use of a model.
"""

from models.bootstrap import bootstrap_model
from models.challenger import ChallengeOutcome, challenge
from models.evaluate import accuracy
from models.gate import GateDecision, judge
from models.registry import (
    CHAMPION,
    PREVIOUS,
    Champion,
    alias_version,
    connect,
    load_champion,
    load_version,
    promote,
    rollback,
)
from models.replay import merge_replay, replay_sample
from models.train import TrainedModel, train_initial

__all__ = [
    "CHAMPION",
    "PREVIOUS",
    "ChallengeOutcome",
    "Champion",
    "GateDecision",
    "TrainedModel",
    "accuracy",
    "alias_version",
    "bootstrap_model",
    "challenge",
    "connect",
    "judge",
    "load_champion",
    "load_version",
    "merge_replay",
    "promote",
    "replay_sample",
    "rollback",
    "train_initial",
]
