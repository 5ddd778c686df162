"""The served form of a model: raw feature columns in, predicted class and probabilities out.

This file is the logged model's code (MLflow's models-from-code): it is copied into every
version as ``serving.py`` beside ``MLmodel``, and ``mlflow.models.set_model`` at its end
names the model. A plain MLflow client loads ``models:/NAME@champion`` through
``mlflow.pyfunc`` by running this published source, with no pickled Python object and
without driftloop installed. It must therefore import nothing from driftloop, and only
numpy, pandas, keras and mlflow at call time.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from mlflow.models import set_model
from mlflow.pyfunc import PythonModel

MISSING_CATEGORY = "__missing__"
# meta key: feature column -> the Keras input it feeds. Models logged before it existed named
# their inputs after the columns themselves, so a column absent from it feeds the input `col`.
INPUT_NAMES = "input_names"
# Rows scored at once are capped so that one chunk's one-hot encodings stay near this size.
CHUNK_BYTES = 64 << 20
KERAS_FILE = "model.keras"
META_FILE = "meta.json"


def frame_to_inputs(frame: pd.DataFrame, meta: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Turn raw feature columns into the Keras model's named inputs (missing values filled)."""
    missing = [c for c in [*meta["numeric"], *meta["categorical"]] if c not in frame.columns]
    if missing:
        raise KeyError(
            f"input frame lacks feature column(s) {missing}; the model reads "
            f"{[*meta['numeric'], *meta['categorical']]}"
        )
    inputs: dict[str, np.ndarray] = {}
    fill = meta["numeric_fill"]
    names = meta.get(INPUT_NAMES, {})
    for col in meta["numeric"]:
        values = numbers(frame[col])
        inputs[names.get(col, col)] = (
            values.fillna(fill[col]).to_numpy(dtype="float32").reshape(-1, 1)
        )
    for col in meta["categorical"]:
        inputs[names.get(col, col)] = category_text(frame[col]).reshape(-1, 1)
    return inputs


def category_text(raw: pd.Series) -> np.ndarray:
    """``str()`` of each value (MISSING_CATEGORY where missing), once per distinct value.

    The same as driftloop.core.text.as_text, which this file may not import (see above).
    """
    if isinstance(raw.dtype, pd.CategoricalDtype):
        raw = raw.astype(object)
    codes, uniques = pd.factorize(raw)
    exact = raw.dtype.kind in "iub" or all(isinstance(u, str) for u in uniques)
    if not exact:  # pandas takes 1, 1.0 and True (or 0.0 and -0.0) as one value
        codes, uniques = pd.factorize(raw.astype("str"))
    table = np.array([*(str(u) for u in uniques), MISSING_CATEGORY], dtype=object)
    return table[codes]


def numbers(values: pd.Series) -> pd.Series:
    """A column as float64, from ints, floats, booleans, categoricals or numeric text (else NaN)."""
    if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object:
        values = pd.Series(values.to_numpy(dtype=object), index=values.index)
        values = values.map(lambda v: float(v) if isinstance(v, bool | np.bool_) else v)
    elif pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("float64")
    return pd.to_numeric(values, errors="coerce").astype("float64")


def chunk_rows(model: Any, limit: int = 65_536) -> int:
    """Rows to score at once: at most `limit`, fewer when the model's encoded row is wide."""
    dense = (layer for layer in getattr(model, "layers", []) if hasattr(layer, "kernel"))
    width = next((int(layer.kernel.shape[0]) for layer in dense), 1)
    return max(256, min(limit, CHUNK_BYTES // (4 * width)))


def predict_outputs(
    model: Any, frame: pd.DataFrame, meta: Mapping[str, Any], chunk: int = 65_536
) -> np.ndarray:
    """Raw model outputs, one row per input row: class probabilities, or (n, 1) values."""
    width = len(meta["classes"]) if is_classifier(meta) else 1
    if len(frame) == 0:
        return np.zeros((0, width), dtype="float32")
    inputs = frame_to_inputs(frame, meta)
    chunk = chunk_rows(model, chunk)
    parts = []
    for start in range(0, len(frame), chunk):
        part = to_tensors({k: v[start : start + chunk] for k, v in inputs.items()})
        parts.append(np.asarray(model(part, training=False)))
    return np.concatenate(parts)


def predict_proba(model: Any, frame: pd.DataFrame, meta: Mapping[str, Any]) -> np.ndarray:
    """Class probabilities, one row per input row, columns in meta["classes"] order."""
    return predict_outputs(model, frame, meta)


def is_classifier(meta: Mapping[str, Any]) -> bool:
    """True when the model predicts classes (meta["task"] defaults to classification)."""
    return meta.get("task", "classification") == "classification"


def to_tensors(inputs: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """Model inputs as TensorFlow tensors (string columns as tf.string)."""
    import tensorflow as tf

    return {k: tf.constant(v) for k, v in inputs.items()}


def proba_to_frame(proba: np.ndarray, classes: list[Any]) -> pd.DataFrame:
    """The served output: a "prediction" column and one "proba_<class>" column per class."""
    out = pd.DataFrame({"prediction": [classes[i] for i in np.argmax(proba, axis=1)]})
    for i, cls in enumerate(classes):
        out[f"proba_{cls}"] = proba[:, i].astype("float64")
    return out


def outputs_to_frame(outputs: np.ndarray, meta: Mapping[str, Any]) -> pd.DataFrame:
    """The served output of either task: classes with probabilities, or predicted values."""
    if is_classifier(meta):
        return proba_to_frame(outputs, meta["classes"])
    return pd.DataFrame({"prediction": outputs[:, 0].astype("float64")})


class KerasTabularModel(PythonModel):
    """MLflow pyfunc wrapper around the Keras model and its feature metadata."""

    def load_context(self, context: Any) -> None:
        """Load the Keras file and metadata logged with the model."""
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        import keras

        self.model = keras.saving.load_model(context.artifacts["keras_model"], compile=False)
        self.meta = json.loads(Path(context.artifacts["meta"]).read_text(encoding="utf-8"))

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        """Predict the class (with probabilities) or the value of each row of raw features."""
        frame = pd.DataFrame(model_input)
        return outputs_to_frame(predict_outputs(self.model, frame, self.meta), self.meta)


# Models-from-code: MLflow runs this file to get the model it logs and, later, loads.
set_model(KerasTabularModel())
