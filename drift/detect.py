"""Compare a batch with a reference profile, feature by feature, and decide which drifted.

A feature drifts when its test is significant after the correction across every test of
the batch (features, missing rates, the joint test, predictions, ``extra`` results) AND its
effect size reaches the floor, so a large batch does not flag negligible shifts.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from driftloop.drift.blas import one_blas_thread
from driftloop.drift.correction import canonical_method, correction_for, validate_alpha
from driftloop.drift.ecdf import POOL_THREAD_PREFIX
from driftloop.drift.errors import BatchError, DriftError
from driftloop.drift.features import (
    CATEGORICAL_TESTS,
    NUMERIC_TESTS,
    Outcome,
    categorical_outcome,
    numeric_outcome,
)
from driftloop.drift.ks import NEVER_EXACT
from driftloop.drift.missing import MISSING_PREFIX, missing_rate_test
from driftloop.drift.mmd import JOINT_FEATURE, mmd_test
from driftloop.drift.outcome import KINDS, REPORT_SCHEMA_VERSION, DriftReport, FeatureDrift
from driftloop.drift.prediction import PREDICTION_FEATURE, prediction_drift_test
from driftloop.drift.profile import ReferenceProfile
from driftloop.drift.result import TestResult
from driftloop.drift.settle import Tested, settle_fast_p_values

__all__ = [
    "KINDS",
    "REPORT_SCHEMA_VERSION",
    "DriftOptions",
    "DriftReport",
    "FeatureDrift",
    "Submitter",
    "detect_drift",
]

MULTIVARIATE = ("mmd", "off")


class _Pending(Protocol):
    def result(self) -> Any: ...


class Submitter(Protocol):
    """Where per-feature tests run: a concurrent.futures Executor, or anything with `submit`."""

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> _Pending: ...


@dataclass(frozen=True)
class DriftOptions:
    """How a batch is tested: which tests, the level, the correction and the effect floors.

    ``tests`` overrides the test of single features (``{"income": "ad"}``); ``multivariate``
    is ``"off"`` or ``"mmd"`` (the joint test, ``permutations`` of it); ``workers`` threads run
    the per-feature tests when no executor is given; ``seed`` seeds the sampled tests.
    """

    alpha: float = 0.05
    correction: str = "holm"
    numeric_test: str = "ks"
    categorical_test: str = "chi2"
    tests: Mapping[str, str] = field(default_factory=dict)
    effect_size_floor: float = 0.05
    missing_rate_floor: float = 0.01
    multivariate: str = "off"
    permutations: int = 1000
    workers: int | None = None
    seed: int = 0


def _check_batch(
    profile: ReferenceProfile, batch: pd.DataFrame, extras: Mapping[str, object]
) -> None:
    """Raise BatchError unless ``batch`` carries every profile feature once and has rows."""
    if not isinstance(batch, pd.DataFrame):
        raise BatchError(f"batch must be a pandas DataFrame, got {type(batch).__name__}")
    names = profile.numeric_features + profile.categorical_features
    absent = [name for name in names if name not in batch.columns]
    if absent:
        raise BatchError(
            f"batch lacks feature column(s) {absent}; the batch must carry every feature of the "
            f"model's schema (profile features: {names})"
        )
    repeated = sorted({name for name in names if list(batch.columns).count(name) > 1})
    if repeated:
        raise BatchError(f"batch has duplicate column(s) {repeated}; keep one column per feature")
    if len(batch) == 0:
        raise BatchError("batch has no rows; there is nothing to test for drift")
    clashes = sorted(set(extras) & set(names))
    if clashes:
        raise BatchError(f"extra result name(s) {clashes} clash with profile features; rename them")
    for name, extra_result in extras.items():
        if not isinstance(extra_result, TestResult):
            raise BatchError(
                f"extra result {name!r} must be a TestResult, got {type(extra_result)}"
            )


def _choices(
    profile: ReferenceProfile, numeric_test: str, categorical_test: str, tests: Mapping[str, str]
) -> dict[str, str]:
    """Return the test name of every profile feature, checking names and overrides."""
    chosen = {name: numeric_test for name in profile.numeric_features}
    chosen |= {name: categorical_test for name in profile.categorical_features}
    unknown = sorted(set(tests) - set(chosen))
    if unknown:
        raise DriftError(f"per-feature test override(s) for unknown feature(s) {unknown}")
    chosen |= dict(tests)
    for name, test in chosen.items():
        valid = NUMERIC_TESTS if name in profile.numeric else CATEGORICAL_TESTS
        if test not in valid:
            kind = "numeric" if name in profile.numeric else "categorical"
            raise DriftError(
                f"test {test!r} of {kind} feature {name!r} is not one of {sorted(valid)}"
            )
    return chosen


def _joint_rows(
    profile: ReferenceProfile, outcomes: dict[str, Outcome], rows: int, seed: int
) -> np.ndarray:
    """A seeded sample of batch rows of the numeric features, in profile order."""
    first = outcomes[profile.numeric_features[0]].values
    n = 0 if first is None else first.size
    index = np.sort(np.random.default_rng(seed).choice(n, size=min(n, rows), replace=False))
    columns = []
    for name in profile.numeric_features:
        values = outcomes[name].values
        columns.append(np.full(index.size, np.nan) if values is None else values[index])
    return np.column_stack(columns)


def _outcomes(
    profile: ReferenceProfile,
    batch: pd.DataFrame,
    chosen: dict[str, str],
    opts: DriftOptions,
    executor: Submitter | None,
) -> dict[str, Outcome]:
    """Every profile feature's test, run on the executor (or a private thread pool)."""
    own = None
    if executor is None:
        workers = opts.workers or os.cpu_count() or 1
        own = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=POOL_THREAD_PREFIX)
    pool: Submitter = own or executor  # type: ignore[assignment]  # one of them is set
    band = NEVER_EXACT  # fast KS p-values are settled against the decisions afterwards
    with ExitStack() as stack:
        if own is not None:
            stack.enter_context(one_blas_thread())
            stack.callback(own.shutdown)
        futures = {
            name: pool.submit(
                numeric_outcome,
                profile.numeric[name],
                profile.numeric_missing[name],
                batch[name],
                chosen[name],
                band,
                opts.seed + i,
                profile.reference_bins[name],
            )
            if name in profile.numeric
            else pool.submit(
                categorical_outcome,
                profile.categorical[name],
                batch[name],
                chosen[name],
                opts.seed + i,
            )
            for i, name in enumerate(chosen)
        }
        return {name: future.result() for name, future in futures.items()}


def _feature_tests(
    profile: ReferenceProfile, outcomes: dict[str, Outcome], opts: DriftOptions
) -> list[Tested]:
    """The features' own tests, then the missing-rate tests that can vary."""
    tested = [
        Tested(
            name,
            "numeric" if name in profile.numeric else "categorical",
            out.result,
            out.batch_missing,
            out.effect_size,
            opts.effect_size_floor,
        )
        for name, out in outcomes.items()
    ]
    for name, out in outcomes.items():
        rate = missing_rate_test(
            out.reference_missing, out.reference_total, out.batch_missing, out.batch_total
        )
        if rate is not None:
            effect = rate.details["effect_size"]
            tested.append(
                Tested(
                    MISSING_PREFIX + name,
                    "missing",
                    rate,
                    out.batch_missing,
                    effect,
                    opts.missing_rate_floor,
                )
            )
    return tested


def _joint_test(
    profile: ReferenceProfile, outcomes: dict[str, Outcome], opts: DriftOptions
) -> Tested | None:
    """The MMD test of the numeric features' joint distribution, when asked and possible."""
    if opts.multivariate != "mmd" or profile.joint is None:
        return None
    rows = _joint_rows(profile, outcomes, profile.joint.shape[0], opts.seed)
    if int(np.count_nonzero(np.all(np.isfinite(rows), axis=1))) < 10:
        return None  # too few complete rows: nothing to compare
    joint = mmd_test(
        profile.joint,
        rows,
        rows=profile.joint.shape[0],
        permutations=opts.permutations,
        seed=opts.seed,
    )
    return Tested(JOINT_FEATURE, "joint", joint, 0, joint.details["effect_size"], 0.0)


def _prediction_test(
    profile: ReferenceProfile, predictions: ArrayLike | None, opts: DriftOptions
) -> Tested | None:
    """The champion's predicted probabilities against its reference predictions, if both."""
    if predictions is None or profile.prediction is None:
        return None
    pred = prediction_drift_test(profile.prediction, predictions)
    effect = pred.details["effect_size"]
    return Tested(PREDICTION_FEATURE, "prediction", pred, 0, effect, opts.effect_size_floor)


def _decide(tested: list[Tested], opts: DriftOptions, correction: str) -> list[FeatureDrift]:
    """Correct across every test, apply the effect floors, and name each verdict."""
    settle_fast_p_values(tested, correction_for(correction), opts.alpha)
    decisions = correction_for(correction)({t.name: t.result.p_value for t in tested}, opts.alpha)
    features = []
    for t in tested:
        r = t.result
        big_enough = t.effect is None or t.effect >= t.floor
        # Only a caller's own (``extra``) result is shared; this call made the others.
        details = copy.deepcopy(r.details) if t.kind == "extra" else dict(r.details)
        details.update(significant=bool(decisions[t.name]), effect_size_floor=t.floor)
        drifted = (decisions[t.name] and big_enough) or r.test == "all-missing"
        features.append(
            FeatureDrift(
                feature=t.name,
                kind=t.kind,
                test=r.test,
                statistic=r.statistic,
                p_value=r.p_value,
                drifted=bool(drifted),
                n_reference=r.n_reference,
                n_batch=r.n_batch,
                missing_batch=t.missing,
                details=details,
                effect_size=t.effect,
            )
        )
    return features


def detect_drift(
    profile: ReferenceProfile,
    batch: pd.DataFrame,
    options: DriftOptions | None = None,
    *,
    extra: Mapping[str, TestResult] | None = None,
    batch_predictions: ArrayLike | None = None,
    executor: Submitter | None = None,
) -> DriftReport:
    """Test every profile feature of ``batch`` for drift and correct across all tests.

    The report lists numeric then categorical features (profile order), then the missing-rate
    tests that can vary (``"__missing_rate__:<feature>"``), the joint test (``"__joint__"``,
    when the profile holds joint rows), prediction drift (``"__prediction__"``, when both the
    profile and ``batch_predictions`` hold probabilities) and ``extra`` results.

    The per-feature tests run on ``executor`` when given (anything with ``submit(fn, *args)``
    returning an object with ``result()``: a concurrent.futures pool, a Dask client's
    executor, a Prefect task runner adapter), else on a private pool of ``workers`` threads.

    Examples
    --------
    >>> from driftloop.drift.profile import build_profile
    >>> rng = np.random.default_rng(0)
    >>> reference = pd.DataFrame({"x": rng.normal(size=2000), "c": rng.choice(["a", "b"], 2000)})
    >>> profile = build_profile(reference, numeric=["x"], categorical=["c"])
    >>> same = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    >>> detect_drift(profile, same).drift
    False
    >>> shifted = same.assign(x=same["x"] + 1.0)
    >>> detect_drift(profile, shifted, DriftOptions(alpha=0.01)).drifted_features
    ['x']
    """
    opts = options or DriftOptions()
    alpha = validate_alpha(opts.alpha)
    correction = canonical_method(opts.correction)
    if opts.multivariate not in MULTIVARIATE:
        raise DriftError(
            f"multivariate must be one of {list(MULTIVARIATE)}, got {opts.multivariate!r}"
        )
    extras = dict(extra or {})
    _check_batch(profile, batch, extras)
    chosen = _choices(profile, opts.numeric_test, opts.categorical_test, opts.tests)
    outcomes = _outcomes(profile, batch, chosen, opts, executor)
    tested = _feature_tests(profile, outcomes, opts)
    joint = _joint_test(profile, outcomes, opts)
    prediction = _prediction_test(profile, batch_predictions, opts)
    tested += [t for t in (joint, prediction) if t is not None]
    tested += [Tested(name, "extra", result) for name, result in extras.items()]
    features = _decide(tested, opts, correction)
    return DriftReport(features, alpha, correction, len(batch), opts.effect_size_floor)
