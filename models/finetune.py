"""Fine-tuning of the champion: new rows plus replayed earlier rows, at a lower learning rate.

Strategies (`[finetune] strategy`):
- "all": every layer trains; the loaded optimizer state is kept and only its learning rate is
  lowered (assigned, not recompiled).
- "freeze": the first `freeze_layers` hidden layers keep their weights; the model is
  recompiled after `trainable` changes (which resets the optimizer), and batch
  normalisation layers, if any, stay in inference mode.

Callbacks: EarlyStopping (best weights restored), ReduceLROnPlateau, BackupAndRestore in
`checkpoint_dir` so that a fine-tune killed mid-way resumes from its last epoch when run again
with the same directory, and TensorBoard logs in `log_dir` when given.

The preprocessing layers (normalisation, category lookup) hold no trainable weight, so the
fine-tuning rows are encoded by them once, and the layers from the first dense one on (the
head, which shares its layers, weights and optimizer with the model) are trained on the
encoded rows, a whole epoch per call of the traced step: no string lookup per step, no
Python round trip per batch. A model without that shape, or whose encoded rows would exceed
`ENCODED_LIMIT_BYTES`, trains whole.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from driftloop.models._keras import keras_module
from driftloop.models.data import encode_target, split_frame
from driftloop.models.evaluate import metric_name, score
from driftloop.models.options import FinetuneOptions
from driftloop.models.replay import replay_sample
from driftloop.models.serving import frame_to_inputs, is_classifier, to_tensors
from driftloop.models.train import Schedule, TrainedModel, compile_model, fit, fit_tensors

log = logging.getLogger(__name__)

ENCODED_LIMIT_BYTES = 256 << 20
"""The most memory the encoded fine-tuning rows may take; above it the model trains whole."""


def prepare_strategy(model: Any, meta: dict[str, Any], f: FinetuneOptions) -> str:
    """Set trainable flags and the learning rate for the configured strategy; describe it."""
    keras = keras_module()
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False  # inference mode while fine-tuning
    if f.strategy == "freeze":
        hidden = [layer for layer in model.layers if layer.name.startswith("hidden_")]
        frozen = hidden[: f.freeze_layers]
        for layer in frozen:
            layer.trainable = False
        compile_model(model, meta, f.learning_rate)
        return f"freeze: {[layer.name for layer in frozen]} fixed, recompiled"
    if getattr(model, "optimizer", None) is not None and getattr(model, "compiled", False):
        model.optimizer.learning_rate.assign(f.learning_rate)
        return "all layers, optimizer state kept, learning rate assigned"
    compile_model(model, meta, f.learning_rate)
    return "all layers, compiled fresh (no optimizer state stored)"


def _drop_torn_backup(checkpoint_dir: Path) -> None:
    """Remove a backup that a kill left half-written (Keras writes it in place): start over."""
    import h5py

    weights = checkpoint_dir / "latest.weights.h5"
    if not weights.exists():
        return
    try:
        h5py.File(weights, "r").close()
    except OSError as err:
        log.warning(
            "fine-tune backup %s is unreadable (%s); starting the fine-tune over", weights, err
        )
        for path in checkpoint_dir.iterdir():
            if path.is_file():
                path.unlink()


def _callbacks(
    f: FinetuneOptions, checkpoint_dir: Path | None, log_dir: Path | None, extra: Sequence[Any]
) -> list[Any]:
    """ReduceLROnPlateau, BackupAndRestore (with a checkpoint folder), TensorBoard (with logs)."""
    keras = keras_module()
    out: list[Any] = [
        *extra,
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=0.5, patience=f.reduce_lr_patience, min_lr=1e-6
        ),
    ]
    if checkpoint_dir is not None:
        checkpoint_dir.mkdir(parents=True, exist_ok=True)
        _drop_torn_backup(checkpoint_dir)
        out.append(keras.callbacks.BackupAndRestore(str(checkpoint_dir)))
    if log_dir is not None:
        out.append(keras.callbacks.TensorBoard(log_dir=str(log_dir), write_graph=False))
    return out


def _split_model(model: Any) -> tuple[Any, Any] | None:
    """(preprocessing part, trainable head) sharing ``model``'s layers, or None if not separable."""
    keras = keras_module()
    first = next((x for x in model.layers if isinstance(x, keras.layers.Dense)), None)
    if first is None:
        return None
    try:
        return keras.Model(model.input, first.input), keras.Model(first.input, model.output)
    except (ValueError, TypeError, AttributeError):  # not a plain preprocessing -> dense graph
        return None


def _fit_head(
    model: Any,
    meta: dict[str, Any],
    frames: tuple[pd.DataFrame, pd.DataFrame],
    schedule: Schedule,
    callbacks: Sequence[Any],
) -> tuple[int, int]:
    """Fit ``model`` on ``frames`` (train, validation): its head on encoded rows when possible."""
    train, valid = frames
    parts = _split_model(model)
    width = 0 if parts is None else int(parts[1].input.shape[-1] or 0)
    if parts is None or width * 4 * (len(train) + len(valid)) > ENCODED_LIMIT_BYTES:
        return fit(model, train, valid, meta, *_plain(schedule), callbacks, label="fine-tuning")
    encoder, head = parts
    head.compile(
        optimizer=model.optimizer,
        loss="sparse_categorical_crossentropy" if is_classifier(meta) else "mse",
        # One call of the traced step per epoch (callbacks act per epoch): the same updates
        # in the same order, without a Python round trip per batch.
        steps_per_execution=max(1, -(-len(train) // schedule.batch_size)),
    )
    pairs = [
        (
            encoder(to_tensors(frame_to_inputs(frame, meta))),
            encode_target(frame[meta["target"]], meta, what),
        )
        for frame, what in ((train, "training data"), (valid, "validation data"))
    ]
    return fit_tensors(head, pairs[0], pairs[1], schedule, callbacks, "fine-tuning")


def _plain(schedule: Schedule) -> tuple[int, int, int, int]:
    """The schedule as ``fit``'s positional arguments."""
    return schedule.epochs, schedule.batch_size, schedule.patience, schedule.seed


def finetune(
    model: Any,
    meta: dict[str, Any],
    new: pd.DataFrame,
    replay: pd.DataFrame,
    opts: FinetuneOptions,
    replay_fraction: float,
    checkpoint_dir: Path | None = None,
    log_dir: Path | None = None,
    callbacks: Sequence[Any] = (),
) -> TrainedModel:
    """Continue training a loaded champion on new plus replayed rows; return the challenger.

    `replay_fraction` is the share of replayed rows in the mix (the challenger passes a lower
    one when the champion's errors on the new rows changed significantly).
    """
    keras_module(opts.seed)
    old = replay_sample(replay, len(new), replay_fraction, opts.seed)
    data = pd.concat([new, old], ignore_index=True)
    train, valid = split_frame(data, opts.validation_fraction, opts.seed + 1)
    how = prepare_strategy(model, meta, opts)
    extra = _callbacks(opts, checkpoint_dir, log_dir, callbacks)
    schedule = Schedule(opts.epochs, opts.batch_size, opts.patience, opts.seed)
    epochs, first = _fit_head(model, meta, (train, valid), schedule, extra)
    name = metric_name(meta)
    metrics = {
        f"train_{name}": score(model, train, meta),
        f"validation_{name}": score(model, valid, meta),
        "replay_rows": float(len(old)),
        "new_rows": float(len(new)),
        "resumed_from_epoch": float(first),
    }
    log.info(
        "fine-tuned (%s): epochs %d-%d on %d new + %d replayed rows",
        how,
        first,
        first + epochs,
        len(new),
        len(old),
    )
    return TrainedModel(model=model, meta=meta, metrics=metrics, epochs_run=first + epochs)
