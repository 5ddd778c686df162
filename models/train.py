"""Initial training of the first model, and the shared fit loop with early stopping."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from driftloop.config import Config
from driftloop.errors import TrainingError
from models._keras import keras_module
from models.build import build_model, feature_meta
from models.data import class_list, encode_labels, split_frame
from models.evaluate import accuracy
from models.serving import frame_to_inputs, to_tensors

log = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """A Keras model with the metadata it is served with, and how its training went."""

    model: Any
    meta: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    epochs_run: int = 0


def fit(
    model: Any,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    meta: dict[str, Any],
    epochs: int,
    batch_size: int,
    patience: int,
    seed: int,
) -> int:
    """Fit with EarlyStopping on validation loss (best weights kept); return epochs run."""
    import tensorflow as tf

    keras = keras_module()
    y_train = encode_labels(train[meta["target"]], meta["classes"], "training data")
    y_valid = encode_labels(valid[meta["target"]], meta["classes"], "validation data")
    train_ds = (
        tf.data.Dataset.from_tensor_slices((to_tensors(frame_to_inputs(train, meta)), y_train))
        .shuffle(len(train), seed=seed, reshuffle_each_iteration=True)
        .batch(batch_size)
    )
    valid_ds = tf.data.Dataset.from_tensor_slices(
        (to_tensors(frame_to_inputs(valid, meta)), y_valid)
    ).batch(4096)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, restore_best_weights=True
    )
    history = model.fit(
        train_ds,
        validation_data=valid_ds,
        epochs=epochs,
        callbacks=[stop],
        verbose=0,
        shuffle=False,
    )
    return len(history.history["loss"])


def train_initial(frame: pd.DataFrame, cfg: Config) -> TrainedModel:
    """Train the first model from scratch on a labelled frame."""
    target = cfg.model.target
    if target not in frame.columns:
        raise TrainingError(
            f"the training data has no target column {target!r}; bootstrap needs labelled rows"
        )
    classes = class_list(frame[target])
    if len(classes) < 2:
        raise TrainingError(
            f"target {target!r} has a single class {classes}; a classifier needs at least two"
        )
    t = cfg.training
    meta = feature_meta(frame, cfg.features.numeric, cfg.features.categorical, target, classes)
    train, valid = split_frame(frame, t.validation_fraction, t.seed)
    keras = keras_module(t.seed)
    model = build_model(train, meta, t.hidden_units, t.seed)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=t.learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    epochs = fit(model, train, valid, meta, t.epochs, t.batch_size, t.patience, t.seed)
    metrics = {
        "train_accuracy": accuracy(model, train, meta),
        "validation_accuracy": accuracy(model, valid, meta),
        "validation_rows": float(len(valid)),
    }
    log.info(
        "initial model: %d epochs, validation accuracy %.4f", epochs, metrics["validation_accuracy"]
    )
    return TrainedModel(model=model, meta=meta, metrics=metrics, epochs_run=epochs)
