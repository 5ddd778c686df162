"""Recurring concepts: a past champion that fits a drifted batch again serves again, untrained.

When drift calls for a challenger, the versions that were champion before (newest first,
at most `[gate] recall_versions`) are scored on the batch's holdout first. One whose errors
there do not differ significantly from its own reference errors (the data is back to what it
was made for) and that beats the champion as a challenger must is promoted again, and no
model is trained. The live replay buffer restarts from the rows that version stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import pandas as pd
from mlflow.tracking import MlflowClient

from driftloop.core.errors import ChampionMoved, RegistryError, TrainingError
from driftloop.models.champion import Champion, load_version
from driftloop.models.evaluate import errors, metric_name, summary
from driftloop.models.gate import GateDecision, judge
from driftloop.models.history import list_moves
from driftloop.models.options import ModelOptions
from driftloop.models.performance import performance_test
from driftloop.models.registry import CHAMPION, promote
from driftloop.models.replay_store import reset_live

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recalled:
    """The past champion promoted again and the gate's decision on it."""

    version: Champion
    decision: GateDecision


def past_champions(client: MlflowClient, name: str, current: str, limit: int) -> list[str]:
    """Versions that were champion before, newest first, without `current`; at most `limit`."""
    out: list[str] = []
    for move in reversed(list_moves(client, name)):
        v = move.to_version
        if len(out) >= limit:
            break
        if move.alias == CHAMPION and v and v != current and v not in out:
            out.append(v)
    return out


def recall(
    champion: Champion,
    holdout: pd.DataFrame,
    champ: float,
    opts: ModelOptions,
    client: MlflowClient,
    trigger: str,
) -> Recalled | None:
    """Promote the newest past champion that fits the holdout and beats the champion's `champ`.

    `champ` is the champion's metric on the holdout (accuracy, or RMSE).
    """
    name, metric, gate = opts.spec.name, metric_name(champion.meta), opts.gate
    for version in past_champions(client, name, champion.version, gate.recall_versions):
        try:
            past = load_version(opts.store, client, name, version)
        except RegistryError as err:  # its files are gone: train a challenger instead
            log.warning("version %s cannot be recalled: %s", version, err)
            continue
        try:
            errs = errors(past.model, holdout, past.meta)
        except TrainingError as err:  # labels of a class it never knew: it cannot fit them
            log.info("version %s cannot be recalled: %s", version, err)
            continue
        fit = performance_test(past, errs)
        if fit.p_value < gate.alpha:  # not the data it was made for
            continue
        d = judge(champ, summary(errs, metric), len(holdout), gate.min_improvement, metric=metric)
        if not d.promote:
            continue
        reason = (
            f"version {version} was champion before and fits the new rows again (its errors "
            f"match its reference, p = {fit.p_value:.3f}); {d.reason}"
        )
        try:
            promote(client, name, version, trigger, reason, expected=champion.version)
        except ChampionMoved as err:
            log.info("not recalling version %s: %s", version, err)
            return None
        reset_live(opts.replay.root, past)
        log.info("recalled version %s: %s", version, reason)
        return Recalled(past, replace(d, reason=reason))
    return None
