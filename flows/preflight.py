"""Checks of state made before a flow touches any batch: a run needs a champion to test against."""

from __future__ import annotations

from mlflow.tracking import MlflowClient

from driftloop.core.config import Config
from driftloop.core.errors import RegistryError
from driftloop.flows.options import model_options
from driftloop.models import registry


def require_champion(cfg: Config, waiting: int = 0, client: MlflowClient | None = None) -> str:
    """The champion's version, or a RegistryError naming the fix (no batch touched, no attempt).

    `waiting`: how many batches wait in landing/ (named in the message of `driftloop run`).
    """
    client = client or registry.connect(model_options(cfg).store)
    version = registry.alias_version(client, cfg.model.name, registry.CHAMPION)
    if version is not None:
        return version
    left = (
        f"; the {waiting} waiting batch(es) stay in {cfg.landing_dir} untouched (no attempt "
        "counted)"
        if waiting
        else ""
    )
    raise RegistryError(
        f"model {cfg.model.name!r} has no champion yet in {cfg.mlflow_uri}{left}. Train the "
        "first model with `driftloop bootstrap --data FILE`, then run again."
    )
