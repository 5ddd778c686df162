"""Model behaviour on seeded data: reproducible training, fine-tuning that adapts."""

from __future__ import annotations

import numpy as np
import pytest

from driftloop.app.stream import CATEGORICAL, NUMERIC, TARGET, make_stream
from driftloop.core.config import config_from_dict
from driftloop.flows.options import model_options
from driftloop.models.data import split_frame
from driftloop.models.evaluate import accuracy
from driftloop.models.finetune import finetune
from driftloop.models.replay import merge_replay
from driftloop.models.train import train_from_scratch

CFG = config_from_dict(
    {
        "model": {"target": TARGET},
        "features": {"numeric": NUMERIC, "categorical": CATEGORICAL},
        "training": {"hidden_units": [16], "epochs": 25, "seed": 11},
        "finetune": {"epochs": 15},
    }
)
OPTS = model_options(CFG)


def test_training_is_reproducible_and_learns_the_rule(tmp_path) -> None:
    stream = make_stream(seed=1, rows=600)
    a = train_from_scratch(stream.bootstrap, OPTS.spec, OPTS.train)
    b = train_from_scratch(stream.bootstrap, OPTS.spec, OPTS.train)
    assert a.epochs_run == b.epochs_run
    for wa, wb in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert a.metrics["validation_accuracy"] > 0.85
    assert accuracy(a.model, stream.batches[0].frame, a.meta) > 0.85

    # Saved and loaded as the registry does: optimizer state survives, fine-tuning lowers the LR.
    a.model.save(tmp_path / "m.keras")
    import keras

    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert int(loaded.optimizer.iterations) == int(a.model.optimizer.iterations) > 0
    concept = stream.batches[10].frame
    fit_part, holdout = split_frame(concept, 0.3, 0)
    replay, _ = merge_replay(stream.bootstrap.iloc[0:0], 0, stream.bootstrap, 400, 0)
    before = accuracy(loaded, holdout, a.meta)
    tuned = finetune(loaded, a.meta, fit_part, replay, OPTS.finetune, OPTS.replay.fraction)
    assert float(tuned.model.optimizer.learning_rate) == pytest.approx(CFG.finetune.learning_rate)
    assert tuned.metrics["replay_rows"] == round(len(fit_part) * 0.3 / 0.7)
    after = accuracy(tuned.model, holdout, a.meta)
    assert before < 0.6 and after > before + 0.2


def test_finetuning_the_head_on_encoded_rows_equals_finetuning_the_whole_model(
    tmp_path, monkeypatch
) -> None:
    import importlib

    import keras

    finetune_module = importlib.import_module("driftloop.models.finetune")  # not the function

    stream = make_stream(seed=2, rows=500)
    a = train_from_scratch(stream.bootstrap, OPTS.spec, OPTS.train)
    a.model.save(tmp_path / "m.keras")
    fit_part, _ = split_frame(stream.batches[10].frame, 0.3, 0)
    head = finetune(
        keras.saving.load_model(tmp_path / "m.keras"),
        a.meta,
        fit_part,
        stream.bootstrap,
        OPTS.finetune,
        OPTS.replay.fraction,
    )
    monkeypatch.setattr(finetune_module, "ENCODED_LIMIT_BYTES", 0)  # the whole model trains
    whole = finetune(
        keras.saving.load_model(tmp_path / "m.keras"),
        a.meta,
        fit_part,
        stream.bootstrap,
        OPTS.finetune,
        OPTS.replay.fraction,
    )
    assert head.epochs_run == whole.epochs_run > 1
    assert int(head.model.optimizer.iterations) == int(whole.model.optimizer.iterations)
    for wh, ww in zip(head.model.get_weights(), whole.model.get_weights(), strict=True):
        np.testing.assert_allclose(wh, ww, rtol=1e-5, atol=1e-6)
    assert head.metrics == pytest.approx(whole.metrics, abs=1e-6)
