"""Fine-tuning of the champion: new rows plus replayed earlier rows, at a lower learning rate."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from driftloop.config import Config
from models._keras import keras_module
from models.data import split_frame
from models.evaluate import accuracy
from models.replay import replay_sample
from models.train import TrainedModel, fit

log = logging.getLogger(__name__)


def finetune(
    model: Any, meta: dict[str, Any], new: pd.DataFrame, replay: pd.DataFrame, cfg: Config
) -> TrainedModel:
    """Continue training a loaded champion (optimizer state kept) on new plus replayed rows."""
    f, t = cfg.finetune, cfg.training
    keras = keras_module(t.seed)
    old = replay_sample(replay, len(new), f.replay_fraction, t.seed)
    data = pd.concat([new, old], ignore_index=True)
    train, valid = split_frame(data, t.validation_fraction, t.seed + 1)
    if getattr(model, "optimizer", None) is not None and model.compiled:
        model.optimizer.learning_rate.assign(f.learning_rate)
    else:
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=f.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    epochs = fit(model, train, valid, meta, f.epochs, t.batch_size, t.patience, t.seed)
    metrics = {
        "train_accuracy": accuracy(model, train, meta),
        "validation_accuracy": accuracy(model, valid, meta),
        "replay_rows": float(len(old)),
        "new_rows": float(len(new)),
    }
    log.info("fine-tuned %d epochs on %d new + %d replayed rows", epochs, len(new), len(old))
    return TrainedModel(model=model, meta=meta, metrics=metrics, epochs_run=epochs)
