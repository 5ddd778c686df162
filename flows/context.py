"""What one run opens once and every batch of it shares: the config, ledger, zone, MLflow, champion.

`monitor` opens a `RunContext` and makes it current for the batches it runs; a batch flow
started on its own (a deployment, a test) opens its own. The champion is loaded once and
loaded again only when the `champion` alias has moved (a promotion, a recall, a rollback by
another process). Flow parameters stay plain (paths), so Prefect can record them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from mlflow.tracking import MlflowClient

import driftloop.flows.embedded  # noqa: F401  (the embedded server's port, before Prefect runs)
from driftloop.core.config import Config, load_config
from driftloop.core.quiet import hold_engine_chatter
from driftloop.core.stores import check_stores
from driftloop.drift import DriftOptions
from driftloop.flows.options import drift_options, model_options
from driftloop.ingest import Ledger, Zone, open_ledger, zone_of
from driftloop.models.champion import Champion, load_champion
from driftloop.models.options import ModelOptions
from driftloop.models.registry import CHAMPION, alias_version, connect

_CURRENT: ContextVar[RunContext | None] = ContextVar("driftloop_run_context", default=None)


@dataclass
class RunContext:
    """The config and stores of one run, opened once; the champion, loaded once per version."""

    cfg: Config
    config_path: str | None
    options: ModelOptions
    drift: DriftOptions
    ledger: Ledger
    zone: Zone
    _client: MlflowClient | None = field(default=None, repr=False)
    _champion: Champion | None = field(default=None, repr=False)

    @classmethod
    def open(cls, config_path: str | None) -> RunContext:
        """Read the config once and open the ledger and the landing zone."""
        hold_engine_chatter()  # Prefect's console handler exists now
        cfg = load_config(config_path)
        check_stores(cfg)  # a path or store setting that cannot work: one line, nothing touched
        cfg.ensure_dirs()
        zone = zone_of(cfg)
        zone.ensure_dirs()
        return cls(cfg, config_path, model_options(cfg), drift_options(cfg), open_ledger(cfg), zone)

    @property
    def client(self) -> MlflowClient:
        """The MLflow client of the configured store (connected on first use)."""
        if self._client is None:
            self._client = connect(self.options.store)
        return self._client

    def champion(self) -> Champion:
        """The serving champion: the one loaded before, unless the alias has moved since."""
        name = self.options.spec.name
        cached = self._champion
        if cached is not None and alias_version(self.client, name, CHAMPION) == cached.version:
            return cached
        self._champion = load_champion(self.options.store, self.client, name)
        return self._champion


@contextmanager
def current(context: RunContext) -> Iterator[RunContext]:
    """Make `context` the one the batch flows of this run use."""
    token = _CURRENT.set(context)
    try:
        yield context
    finally:
        _CURRENT.reset(token)


def context_for(config_path: str | None) -> RunContext:
    """The current run's context for this config, else a new one."""
    ctx = _CURRENT.get()
    if ctx is not None and ctx.config_path == config_path:
        return ctx
    return RunContext.open(config_path)
