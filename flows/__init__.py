"""Prefect flows that wire ingest, drift and models together; the logic lives in those packages.

The names below load on first use, so `import driftloop.flows.options` (what `status`,
`history` and `rollback` need) does not import Prefect. As when they were imported here,
`driftloop.flows.monitor` (and `process_batch`, `retrain`) is the flow, not its module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from driftloop.core.lazy import make_lazy

if TYPE_CHECKING:  # what the names are, for type checkers; loaded on first use at run time
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


make_lazy(__name__, _HOME)
