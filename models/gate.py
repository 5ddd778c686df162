"""The promotion gate: a challenger replaces the champion only if it is better and forgets little.

Both models are scored on the same frozen data: (a) a holdout of the new batch, where the
challenger must gain more than `min_improvement`, and (b) a holdout of past (replayed) rows,
where it may lose at most `max_forgetting` (the forgetting guard). For accuracy, gains and
losses are in accuracy points; for RMSE they are relative to the champion's RMSE. When the
concept has changed (the champion's own accuracy on new data changed significantly), past
labels no longer hold and the forgetting guard is skipped, with the reason recorded.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class GateDecision:
    """Whether to promote, why, and the scores both models got on the same rows."""

    promote: bool
    reason: str
    metric: str
    champion_new: float
    challenger_new: float
    holdout_rows: int
    champion_past: float | None = None
    challenger_past: float | None = None
    past_rows: int = 0
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def champion_accuracy(self) -> float:
        """Champion's score on the new holdout (accuracy for a classifier)."""
        return self.champion_new

    @property
    def challenger_accuracy(self) -> float:
        """Challenger's score on the new holdout (accuracy for a classifier)."""
        return self.challenger_new

    def as_tags(self) -> dict[str, str]:
        """The decision as flat string tags (for the MLflow run and the model version)."""
        out = {
            f"gate_{k}": "" if v is None else str(v)
            for k, v in asdict(self).items()
            if k != "checks"
        }
        out.update({f"gate_check_{k}": v for k, v in self.checks.items()})
        return out


def _gain(champion: float, challenger: float, higher_is_better: bool) -> float:
    """Improvement of challenger over champion: points of accuracy, or relative RMSE cut."""
    if higher_is_better:
        return challenger - champion
    return (champion - challenger) / champion if champion > 0 else 0.0


def _forgetting(
    champion: float | None,
    challenger: float | None,
    rows: int,
    max_forgetting: float,
    concept_changed: bool,
    higher: bool,
) -> tuple[bool, str, str]:
    """The forgetting guard on past rows: (passed, its check, its part of the reason)."""
    if champion is None or challenger is None or rows == 0:
        return True, "skipped: no past rows to check", ""
    if concept_changed:
        skipped = "skipped: concept change, past labels no longer hold"
        return True, skipped, skipped
    loss = -_gain(champion, challenger, higher)
    ok = loss <= max_forgetting + 1e-12
    why = (
        f"past data: challenger {challenger:.4f} vs champion {champion:.4f} on "
        f"{rows} rows, loss {loss:.4f} {'<=' if ok else '>'} {max_forgetting:.4f}"
    )
    return ok, "pass" if ok else "fail", why


def judge(
    champion_new: float,
    challenger_new: float,
    holdout_rows: int,
    min_improvement: float,
    *,
    metric: str = "accuracy",
    champion_past: float | None = None,
    challenger_past: float | None = None,
    past_rows: int = 0,
    max_forgetting: float = 1.0,
    concept_changed: bool = False,
) -> GateDecision:
    """Promote iff the challenger gains > min_improvement on new data and forgets little.

    Examples:
        >>> judge(0.80, 0.86, 600, 0.01).promote
        True
        >>> judge(0.80, 0.805, 600, 0.01).reason
        'new data: challenger 0.8050 vs champion 0.8000 on 600 rows, gain 0.0050 <= 0.0100'
        >>> d = judge(0.80, 0.86, 600, 0.0, champion_past=0.9, challenger_past=0.8,
        ...           past_rows=400, max_forgetting=0.02)
        >>> d.promote, d.checks["forgetting"]
        (False, 'fail')
    """
    higher = metric == "accuracy"
    gain = _gain(champion_new, challenger_new, higher)
    checks: dict[str, str] = {}
    reasons = []
    ok_new = gain > min_improvement + 1e-12  # scores are ratios: ignore float noise
    checks["improvement"] = "pass" if ok_new else "fail"
    reasons.append(
        f"new data: challenger {challenger_new:.4f} vs champion {champion_new:.4f} on "
        f"{holdout_rows} rows, gain {gain:.4f} {'>' if ok_new else '<='} {min_improvement:.4f}"
    )
    ok_past, checks["forgetting"], why = _forgetting(
        champion_past, challenger_past, past_rows, max_forgetting, concept_changed, higher
    )
    if why:
        reasons.append(why)
    return GateDecision(
        promote=ok_new and ok_past,
        reason="; ".join(reasons),
        metric=metric,
        champion_new=champion_new,
        challenger_new=challenger_new,
        holdout_rows=holdout_rows,
        champion_past=champion_past,
        challenger_past=challenger_past,
        past_rows=past_rows,
        checks=checks,
    )


def first_model_passes(metric: str, value: float, threshold: float | None) -> tuple[bool, str]:
    """The first model has no champion to beat: judge it against a value threshold only."""
    if threshold is None:
        return True, f"first model: no {metric} threshold set"
    ok = value >= threshold if metric == "accuracy" else value <= threshold
    sign = (">=" if ok else "<") if metric == "accuracy" else ("<=" if ok else ">")
    return ok, f"first model: validation {metric} {value:.4f} {sign} threshold {threshold:.4f}"


def describe(d: GateDecision, made: str) -> str:
    """The model version's description: how it was made, the gate's decision and why.

    Examples:
        >>> describe(judge(0.80, 0.86, 600, 0.01), "Fine-tuned from version 1 on b.csv")[:62]
        'Fine-tuned from version 1 on b.csv. Gate: promoted to champion'
    """
    verdict = "promoted to champion" if d.promote else "rejected, the champion stays"
    return f"{made}. Gate: {verdict}, because {d.reason}."


def decision_metrics(d: GateDecision) -> dict[str, Any]:
    """The decision's numbers as MLflow metrics (both models, both data sets)."""
    out: dict[str, Any] = {
        f"gate_{d.metric}_new_champion": d.champion_new,
        f"gate_{d.metric}_new_challenger": d.challenger_new,
        "gate_promoted": 1.0 if d.promote else 0.0,
    }
    if d.champion_past is not None and d.challenger_past is not None:
        out[f"gate_{d.metric}_past_champion"] = d.champion_past
        out[f"gate_{d.metric}_past_challenger"] = d.challenger_past
    return out
