"""Prefect flows that wire ingest, drift and models together; the logic lives in those packages.

The names below load on first use, so `import driftloop.flows.options` (what `status`,
`history` and `rollback` need) does not import Prefect. As when they were imported here,
`driftloop.flows.monitor` (and `process_batch`, `retrain`) is the flow, not its module.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what the names are, for type checkers; loaded by __getattr__ at run time
    from driftloop.flows.events import DRIFT_EVENT, drift_trigger, emit_drift
    from driftloop.flows.monitor import monitor
    from driftloop.flows.process_batch import process_batch
    from driftloop.flows.retrain import retrain
    from driftloop.flows.slots import ensure_retrain_limit, limit_name, retrain_slot

_HOME = {
    "DRIFT_EVENT": "events",
    "drift_trigger": "events",
    "emit_drift": "events",
    "ensure_retrain_limit": "slots",
    "limit_name": "slots",
    "monitor": "monitor",
    "process_batch": "process_batch",
    "retrain": "retrain",
    "retrain_slot": "slots",
}

__all__ = [
    "DRIFT_EVENT",
    "drift_trigger",
    "emit_drift",
    "ensure_retrain_limit",
    "limit_name",
    "monitor",
    "process_batch",
    "retrain",
    "retrain_slot",
]


def __getattr__(name: str) -> Any:
    """A flow or helper of this package, imported from its module on first use."""
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)


class _Package(types.ModuleType):
    """This package: a submodule named like its flow (`monitor`) is bound as the flow itself."""

    def __setattr__(self, name: str, value: Any) -> None:
        if _HOME.get(name) == name and isinstance(value, types.ModuleType):
            value = getattr(value, name)  # the import system binds a loaded submodule here
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
