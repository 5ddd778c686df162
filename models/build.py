"""The Keras model with its preprocessing inside: normalisation and one-hot category lookup."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from driftloop.models._keras import keras_module
from driftloop.models.names import input_names
from driftloop.models.serving import INPUT_NAMES, MISSING_CATEGORY

OOV_TOKEN = "[UNK]"  # StringLookup's out-of-vocabulary token; never a vocabulary entry


def feature_meta(
    frame: pd.DataFrame,
    numeric: Sequence[str],
    categorical: Sequence[str],
    target: str,
    task: str,
    classes: Sequence[Any] = (),
) -> dict[str, Any]:
    """The metadata served with a model: task, schema, classes or target scale, fill values."""
    fill = {c: float(np.nanmean(frame[c].to_numpy(dtype="float64"))) for c in numeric}
    meta: dict[str, Any] = {
        "task": task,
        "numeric": list(numeric),
        "categorical": list(categorical),
        "target": target,
        "numeric_fill": fill,
        INPUT_NAMES: input_names([*numeric, *categorical]),
    }
    if task == "classification":
        meta["classes"] = list(classes)
    else:
        y = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype="float64")
        meta["target_mean"] = float(np.nanmean(y))
        meta["target_std"] = float(np.nanstd(y)) or 1.0
    return meta


def vocabulary(values: pd.Series, max_categories: int) -> list[str]:
    """The `max_categories` most frequent values (ties by value) plus the missing marker, sorted.

    Rarer values share the lookup's out-of-vocabulary bucket, so the one-hot width, and the
    memory of every batch encoded with it, is bounded whatever the column's cardinality.
    """
    counts = values.dropna().astype("str").value_counts()
    counts = counts[counts.index != OOV_TOKEN]
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:max_categories]
    return sorted({v for v, _ in ranked} | {MISSING_CATEGORY})


def build_model(
    frame: pd.DataFrame,
    meta: dict[str, Any],
    hidden_units: Sequence[int],
    seed: int,
    max_categories: int = 1000,
) -> Any:
    """A fresh classifier or regressor whose preprocessing layers are fitted to `frame`."""
    keras = keras_module(seed)
    names = meta[INPUT_NAMES]
    inputs: dict[str, Any] = {}
    encoded = []
    for col in meta["numeric"]:
        values = frame[col].to_numpy(dtype="float64")
        values = np.where(np.isnan(values), meta["numeric_fill"][col], values)
        inp = keras.Input(shape=(1,), name=names[col], dtype="float32")
        norm = keras.layers.Normalization(
            mean=float(values.mean()),
            variance=float(values.var()) or 1.0,
            name=f"norm_{names[col]}",
        )
        inputs[names[col]] = inp
        encoded.append(norm(inp))
    for col in meta["categorical"]:
        inp = keras.Input(shape=(1,), name=names[col], dtype="string")
        lookup = keras.layers.StringLookup(
            vocabulary=vocabulary(frame[col], max_categories),
            output_mode="one_hot",
            num_oov_indices=1,
            name=f"lookup_{names[col]}",
        )
        inputs[names[col]] = inp
        encoded.append(lookup(inp))
    x = keras.layers.Concatenate(name="features")(encoded) if len(encoded) > 1 else encoded[0]
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, activation="relu", name=f"hidden_{i}")(x)
    if meta["task"] == "classification":
        out = keras.layers.Dense(len(meta["classes"]), activation="softmax", name="proba")(x)
        return keras.Model(inputs=inputs, outputs=out, name="driftloop_classifier")
    z = keras.layers.Dense(1, name="standardised_value")(x)
    out = keras.layers.Rescaling(meta["target_std"], offset=meta["target_mean"], name="value")(z)
    return keras.Model(inputs=inputs, outputs=out, name="driftloop_regressor")
