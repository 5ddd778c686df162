"""The gate's comparison as MLflow evaluations, so MLflow's UI shows challenger against champion.

The gate (`models/gate.py`) decides; this is the logged, comparable record of its main rule.
Both models' predictions on the gate's holdout go to `mlflow.models.evaluate` as a static
frame (labels plus a predictions column: no model is loaded again), with the gate's own
metric only (accuracy, or RMSE: no plots, no default metric set, so it stays cheap), under
the prefixes `challenger_` and `champion_` on the batch's run, the challenger's also on its
LoggedModel. `mlflow.validate_evaluation_results` then checks the challenger against the
champion with a `MetricThreshold` mirroring the improvement rule (a gain over
`min_improvement`: accuracy points, or a relative RMSE cut). The forgetting guard and the
servability check are the gate's alone.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient

from driftloop.models.data import encode_target
from driftloop.models.serving import is_classifier
from driftloop.models.tracking import at_store

TINY_CHANGE = 1e-10  # MLflow wants a positive change; the gate's rule is "gain > min_improvement"
LABEL, PREDICTION = "label", "prediction"
DATASET = "gate-holdout"


@dataclass(frozen=True)
class GateEvaluation:
    """Both models' metric on the holdout as MLflow computed it, and MLflow's validation."""

    metric: str
    challenger: float
    champion: float
    passed: bool
    message: str


def holdout_frame(outputs: np.ndarray, holdout: pd.DataFrame, meta: dict[str, Any]) -> pd.DataFrame:
    """Labels and a model's predictions on the holdout (class indices, or values)."""
    y = encode_target(holdout[meta["target"]], meta, "the gate's holdout")
    pred = np.argmax(outputs, axis=1) if is_classifier(meta) else outputs[:, 0].astype("float64")
    return pd.DataFrame({LABEL: y, PREDICTION: pred})


def _metric(classifier: bool) -> Any:
    """The gate's metric as an MLflow metric: holdout_accuracy, or holdout_rmse."""
    from mlflow.metrics import MetricValue, make_metric

    name = "holdout_accuracy" if classifier else "holdout_rmse"

    def score(predictions: pd.Series, targets: pd.Series) -> MetricValue:
        p, t = predictions.to_numpy(), targets.to_numpy()
        value = np.mean(p == t) if classifier else np.sqrt(np.mean((p - t) ** 2))
        return MetricValue(aggregate_results={name: float(value)})

    return make_metric(eval_fn=score, greater_is_better=classifier, name=name)


def _evaluate(frame: pd.DataFrame, metric: Any, prefix: str, model_id: str | None) -> Any:
    """One static-frame evaluation in the active run, with only the gate's metric.

    The frame is logged as the run's dataset `gate-holdout` in the context `challenger_` or
    `champion_` (the prefix), beside the batch's own dataset (context `batch`). The metric
    is linked to the LoggedModel `model_id` here rather than by `evaluate(model_id=...)`,
    which links it twice (the model's page then lists it twice).
    """
    from mlflow.data.pandas_dataset import from_pandas

    with warnings.catch_warnings():  # "model type looks like None": no default metric set
        warnings.simplefilter("ignore")
        data = from_pandas(frame, name=DATASET, targets=LABEL, predictions=PREDICTION)
        result = mlflow.models.evaluate(
            data=data,
            extra_metrics=[metric],
            evaluators="default",
            evaluator_config={"metric_prefix": prefix},
        )
        if model_id:
            mlflow.log_metrics(dict(result.metrics), dataset=data, model_id=model_id)
    return result


def evaluate_gate(
    client: MlflowClient,
    run_id: str,
    challenger: pd.DataFrame,
    champion: pd.DataFrame,
    classifier: bool,
    min_improvement: float,
    challenger_model_id: str | None = None,
) -> GateEvaluation:
    """Log both holdout evaluations on the run and validate the challenger against the champion.

    `challenger` and `champion` are `holdout_frame`s of the two models on the same rows.
    """
    from mlflow.models import EvaluationResult, MetricThreshold

    metric = _metric(classifier)
    with at_store(client), mlflow.start_run(run_id=run_id):
        cand = _evaluate(challenger, metric, "challenger_", challenger_model_id)
        base = _evaluate(champion, metric, "champion_", None)
    name = metric.name
    ours = EvaluationResult({name: cand.metrics[f"challenger_{name}"]}, {})
    theirs = EvaluationResult({name: base.metrics[f"champion_{name}"]}, {})
    change = float(min(max(min_improvement, TINY_CHANGE), 1.0))
    rule = (
        MetricThreshold(min_absolute_change=change, greater_is_better=True)
        if classifier
        else MetricThreshold(min_relative_change=change, greater_is_better=False)
    )
    try:
        mlflow.validate_evaluation_results({name: rule}, ours, theirs)
        by = f"{change:g}" if classifier else f"{change:g} of the champion's"
        passed, message = True, f"{name}: the challenger is better by at least {by}"
    except MlflowException as err:
        passed, message = False, err.message.strip()
    return GateEvaluation(name, ours.metrics[name], theirs.metrics[name], passed, message)
