"""Training from scratch, and the shared fit loop with early stopping."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from driftloop.core.errors import TrainingError
from driftloop.models._keras import keras_module
from driftloop.models.build import build_model, feature_meta
from driftloop.models.data import class_list, encode_target, split_frame
from driftloop.models.evaluate import errors, metric_name, score
from driftloop.models.options import ModelSpec, TrainOptions
from driftloop.models.progress import epoch_callback
from driftloop.models.serving import frame_to_inputs, is_classifier, to_tensors

log = logging.getLogger(__name__)


@dataclass
class TrainedModel:
    """A Keras model with the metadata it is served with, and how its training went."""

    model: Any
    meta: dict[str, Any]
    metrics: dict[str, float] = field(default_factory=dict)
    epochs_run: int = 0
    validation_errors: np.ndarray | None = None


class _FirstEpoch:
    """Remembers the first epoch a fit call ran (above 0 when it resumed from a backup)."""

    def __init__(self) -> None:
        self.first: int | None = None

    def callback(self) -> Any:
        keras = keras_module()
        outer = self

        class Record(keras.callbacks.Callback):  # type: ignore[name-defined]
            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                if outer.first is None:
                    outer.first = epoch

        return Record()


def compile_model(model: Any, meta: dict[str, Any], learning_rate: float) -> None:
    """Compile with Adam and the task's loss (cross-entropy or mean squared error)."""
    keras = keras_module()
    loss = "sparse_categorical_crossentropy" if is_classifier(meta) else "mse"
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate), loss=loss)


def fit(
    model: Any,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    meta: dict[str, Any],
    epochs: int,
    batch_size: int,
    patience: int,
    seed: int,
    callbacks: Sequence[Any] = (),
    label: str = "training",
) -> tuple[int, int]:
    """Fit with EarlyStopping on validation loss (best weights kept), epochs told as `label`.

    Returns (epochs run by this call, epoch it started at: above 0 after a resume).
    """
    y_train = encode_target(train[meta["target"]], meta, "training data")
    y_valid = encode_target(valid[meta["target"]], meta, "validation data")
    return fit_tensors(
        model,
        (to_tensors(frame_to_inputs(train, meta)), y_train),
        (to_tensors(frame_to_inputs(valid, meta)), y_valid),
        Schedule(epochs, batch_size, patience, seed),
        callbacks,
        label,
    )


@dataclass(frozen=True)
class Schedule:
    """How long and in which order a fit runs: epochs, batch size, patience, shuffle seed."""

    epochs: int
    batch_size: int
    patience: int
    seed: int


def fit_tensors(
    model: Any,
    train: tuple[Any, Any],
    valid: tuple[Any, Any],
    schedule: Schedule,
    callbacks: Sequence[Any] = (),
    label: str = "training",
) -> tuple[int, int]:
    """``fit`` on (inputs, targets) pairs already converted to tensors (epochs told as `label`)."""
    import tensorflow as tf

    keras = keras_module()
    train_ds = (
        tf.data.Dataset.from_tensor_slices(train)
        .shuffle(len(train[1]), seed=schedule.seed, reshuffle_each_iteration=True)
        .batch(schedule.batch_size)
    )
    valid_ds = tf.data.Dataset.from_tensor_slices(valid).batch(4096)
    stop = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=schedule.patience, min_delta=1e-3, restore_best_weights=True
    )
    first = _FirstEpoch()
    history = model.fit(
        train_ds,
        validation_data=valid_ds,
        epochs=schedule.epochs,
        callbacks=[*callbacks, stop, first.callback(), epoch_callback(label, schedule.epochs)],
        verbose=0,
        shuffle=False,
    )
    return len(history.history.get("loss", [])), int(first.first or 0)


def train_from_scratch(frame: pd.DataFrame, spec: ModelSpec, opts: TrainOptions) -> TrainedModel:
    """Train a new model (preprocessing fitted to `frame`) on a labelled frame."""
    target = spec.target
    if target not in frame.columns:
        raise TrainingError(
            f"the training data has no target column {target!r}; training needs labelled rows"
        )
    classes: list[Any] = []
    if spec.task == "classification":
        classes = class_list(frame[target])
        if len(classes) < 2:
            raise TrainingError(
                f"target {target!r} has a single class {classes}; a classifier needs at least two"
            )
    meta = feature_meta(frame, spec.numeric, spec.categorical, target, spec.task, classes)
    train, valid = split_frame(frame, opts.validation_fraction, opts.seed)
    keras_module(opts.seed)
    model = build_model(train, meta, opts.hidden_units, opts.seed, opts.max_categories)
    compile_model(model, meta, opts.learning_rate)
    epochs, _ = fit(
        model, train, valid, meta, opts.epochs, opts.batch_size, opts.patience, opts.seed
    )
    name = metric_name(meta)
    metrics = {
        f"train_{name}": score(model, train, meta),
        f"validation_{name}": score(model, valid, meta),
        "validation_rows": float(len(valid)),
    }
    log.info(
        "trained from scratch: %d epochs, validation %s %.4f",
        epochs,
        name,
        metrics[f"validation_{name}"],
    )
    return TrainedModel(model, meta, metrics, epochs, errors(model, valid, meta))
