"""One retrain at a time per model: a strict Prefect global concurrency limit.

Every path that makes a challenger (a drifted batch retrained inline, the retrain deployment
run by hand, by schedule or by a drift event) holds the model's slot while it loads the
champion, trains, gates and promotes. The limit is strict, so a retrain never goes on
unguarded: taking the slot creates the limit (1 slot) when it is missing, however the flow
was started (CLI, Python, deployment), and an existing limit is never changed. `driftloop
serve` also creates it up front, so it shows on the server before the first retrain.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

from driftloop.core.errors import DriftloopError

PREFIX = "driftloop-retrain-"


def limit_name(model: str) -> str:
    """The global concurrency limit that serialises the retrains of one registered model."""
    return PREFIX + model


def ensure_retrain_limit(model: str) -> bool:
    """Create the model's retrain limit (1 slot) if it is missing; True when it was created."""
    name = limit_name(model)
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return False
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:  # another process created it a moment ago
            return False
    return True


@contextmanager
def retrain_slot(model: str) -> Iterator[None]:
    """Hold the model's retrain slot for the block; wait while another retrain holds it."""
    name = limit_name(model)
    ensure_retrain_limit(model)
    try:
        with concurrency(name, occupy=1, strict=True):
            yield
    except ConcurrencySlotAcquisitionError as err:
        raise DriftloopError(
            f"the global concurrency limit {name!r} that keeps retrains of {model!r} one at a "
            f"time is unusable ({err}); check it with `prefect gcl inspect {name}` (it must "
            f"be active with at least 1 slot) and run again."
        ) from None
