"""Real public data sets (shipped inside scikit-learn's wheel), written out as real teams export.

Each export carries what monitoring exports carry: a saved pandas index, an `id`, a
`timestamp`, the previous model's `y_pred` (and `y_pred_proba` for classifiers), names with
spaces, punctuation and non-ASCII letters. Rows are put in time order along a drift feature (with
noise), so the data drifts the way a time split of a real stream does: the bootstrap file is a
seeded sample of the first 80% of the rows, batch `early` holds the rest of that 80% (same
period: no drift expected), batch `late` holds the last 20% (the drift feature's high values).

No file is downloaded: sklearn.datasets.load_* read CSV files inside the installed wheel.
Labels are typed differently between files, as exports of different jobs are: the
float-labelled set has `1.0`/`0.0` in its bootstrap file and `1`/`0` in its batches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import datasets


@dataclass(frozen=True)
class RealExport:
    """One data set written as a bootstrap file and two batches."""

    name: str
    target: str
    bootstrap: Path
    batches: tuple[Path, ...]


@dataclass(frozen=True)
class Source:
    """How one bundled data set becomes an export."""

    name: str
    load: Callable[[], pd.DataFrame]
    target: str
    drift_feature: str
    suffix: str
    index: str  # "column": a literal "Unnamed: 0" column (a re-saved index); "csv": to_csv's


def _iris() -> pd.DataFrame:
    frame = datasets.load_iris(as_frame=True).frame
    return frame.rename(columns={"target": "species", "petal width (cm)": "pétale largeur (cm)"})


def _wine() -> pd.DataFrame:
    bunch = datasets.load_wine(as_frame=True)
    frame = bunch.frame.rename(columns={"target": "cultivar", "malic_acid": "malic-acid g/l"})
    frame["cultivar"] = [str(bunch.target_names[i]) for i in frame["cultivar"]]
    frame["lot"] = [f"L-{i * 7919 % 100_003:06d}" for i in range(len(frame))]  # one per row
    return frame


def _cancer() -> pd.DataFrame:
    frame = datasets.load_breast_cancer(as_frame=True).frame
    return frame.rename(columns={"target": "benign?"}).astype({"benign?": "float64"})


def _diabetes() -> pd.DataFrame:
    frame = datasets.load_diabetes(as_frame=True, scaled=False).frame
    frame = frame.rename(columns={"target": "progression (1y)", "s1": "s1: tc"})
    return frame.assign(sex=frame["sex"].map({1.0: "female", 2.0: "male"}))


SOURCES = (
    Source("iris", _iris, "species", "petal length (cm)", ".csv", "column"),
    Source("wine", _wine, "cultivar", "alcohol", ".csv", "csv"),
    Source("breast_cancer", _cancer, "benign?", "worst area", ".csv", "csv"),
    Source("diabetes", _diabetes, "progression (1y)", "bmi", ".parquet", "column"),
)


def _previous_model(frame: pd.DataFrame, target: str, rng: np.random.Generator) -> pd.DataFrame:
    """The old model's outputs: right on about 90% of rows (or the target plus noise)."""
    y = frame[target]
    if pd.api.types.is_float_dtype(y) and y.nunique() > 20:
        return frame.assign(y_pred=y + rng.normal(0, y.std() / 3, len(y)))
    wrong = rng.random(len(y)) < 0.1
    shuffled = y.sample(frac=1.0, random_state=int(rng.integers(1 << 30))).to_numpy()
    return frame.assign(
        y_pred=np.where(wrong, shuffled, y.to_numpy()),
        y_pred_proba=np.round(rng.uniform(0.5, 1.0, len(y)), 4),
    )


def _in_time_order(source: Source, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = source.load()
    key = frame[source.drift_feature].rank(pct=True) + rng.normal(0, 0.15, len(frame))
    frame = frame.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
    frame = _previous_model(frame, source.target, rng)
    stamps = pd.date_range("2024-01-01", periods=len(frame), freq="37min").astype(str)
    frame.insert(0, "timestamp", stamps)
    frame.insert(0, "id", np.arange(1, len(frame) + 1))
    return frame


def _write(frame: pd.DataFrame, path: Path, index: str) -> Path:
    if path.suffix == ".parquet":
        frame.assign(**{"Unnamed: 0": frame.index}).to_parquet(path, index=False)
    elif index == "column":
        frame.insert(0, "Unnamed: 0", frame.index)
        frame.to_csv(path, index=False)
    else:
        frame.to_csv(path, index=True)
    return path


def _as_batch_labels(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """Whole-number float labels (`1.0`) written as integers (`1`), as another job exports them."""
    y = frame[target]
    if pd.api.types.is_float_dtype(y) and bool((y == y.round()).all()):
        frame = frame.assign(**{target: y.astype("int64")})
    return frame


def write_export(source: Source, folder: Path, seed: int = 0) -> RealExport:
    """Write one source as bootstrap + batches `early` (same period) and `late` (drifted)."""
    frame = _in_time_order(source, seed)
    cut = int(len(frame) * 0.8)
    first, last = frame.iloc[:cut], frame.iloc[cut:]
    boot = first.sample(frac=0.75, random_state=seed).sort_index()
    early = first.drop(index=boot.index)
    folder.mkdir(parents=True, exist_ok=True)
    s, t = source.suffix, source.target
    return RealExport(
        source.name,
        source.target,
        _write(boot.copy(), folder / f"{source.name}-bootstrap{s}", source.index),
        (
            _write(_as_batch_labels(early, t), folder / f"{source.name}-early{s}", source.index),
            _write(_as_batch_labels(last, t), folder / f"{source.name}-late{s}", source.index),
        ),
    )
