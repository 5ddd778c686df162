"""One retrain at a time per model: a leased slot of a Prefect global concurrency limit.

Every path that makes a challenger (a drifted batch retrained inline, the retrain deployment
run by hand, by schedule or by a drift event) holds the model's slot while it loads the
champion, trains, gates and promotes. Taking the slot creates the limit (1 slot) when it is
missing, however the flow was started, and an existing limit is never changed. `driftloop
serve` also creates it up front, so it shows on the server before the first retrain.

The slot is a lease, not a lock: the holder renews it (and its holder record, see
slot_holder.py) from a heartbeat thread every third of `[prefect] retrain_lease_seconds` while
a long fine-tune runs. A holder that dies (kill -9, a lost machine) stops renewing; the next
run that finds the slot held by a dead holder (its lease run out, or its process gone from this
host) releases it and takes it. Prefect's embedded server keeps leases in memory and runs no
lease reaper, so without this a killed holder kept the slot forever. A run that finds a live
holder waits `[prefect] retrain_wait_seconds`, then fails with SlotBusy naming the holder and
`driftloop unlock`, which refuses while the holder is alive.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound, PrefectHTTPStatusError

import driftloop.flows.embedded  # noqa: F401  (the embedded server's port, before Prefect runs)
from driftloop.core.config import Config
from driftloop.core.errors import DriftloopError, SlotBusy
from driftloop.flows.slot_holder import Holder, clear_holder, read_holder, write_holder

PREFIX = "driftloop-retrain-"
POLL_SECONDS = 2.0
PREFECT_MIN_LEASE = 60.0  # the API refuses shorter leases; ours (the holder record) may be
log = logging.getLogger(__name__)


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


def _unusable(name: str, model: str, why: str) -> DriftloopError:
    return DriftloopError(
        f"the global concurrency limit {name!r} that keeps retrains of {model!r} one at a "
        f"time is unusable ({why}); check it with `prefect gcl inspect {name}` (it must "
        f"be active with at least 1 slot) and run again."
    )


def _try_take(client: SyncPrefectClient, model: str, lease_seconds: float) -> UUID | None:
    """Take one slot with a lease now; None when every slot is held."""
    name = limit_name(model)
    try:
        resp = client.increment_concurrency_slots_with_lease(
            [name], 1, "concurrency", max(lease_seconds, PREFECT_MIN_LEASE)
        )
    except PrefectHTTPStatusError as err:
        if err.response.status_code == 423:
            return None
        raise _unusable(name, model, err.response.text[:200]) from None
    body = resp.json()
    if not body.get("limits"):
        raise _unusable(name, model, "it is missing or inactive")
    return UUID(body["lease_id"])


def release_dead(client: SyncPrefectClient, model: str, holder: Holder | None) -> None:
    """Give back the slot a dead holder kept: its lease if the server still has it, else 1 slot."""
    if holder is not None and read_holder(client, model) != holder:
        return  # someone else released or took it meanwhile
    before = client.read_global_concurrency_limit_by_name(limit_name(model)).active_slots
    if holder is not None:
        client.release_concurrency_slots_with_lease(UUID(holder.lease_id))
    after = client.read_global_concurrency_limit_by_name(limit_name(model)).active_slots
    if after >= before > 0:  # the server forgot the lease (a restart): free the slot itself
        held = time.time() - holder.renewed if holder else 1.0
        client.release_concurrency_slots([limit_name(model)], 1, max(held, 1.0))
    clear_holder(client, model, None if holder is None else holder.lease_id)
    log.warning(
        "retrain slot of %s released: its holder is gone (%s)",
        model,
        holder.describe() if holder else "no holder recorded",
    )


def _busy(model: str, holder: Holder | None, wait_seconds: float) -> SlotBusy:
    who = holder.describe() if holder else "a holder that left no record"
    return SlotBusy(
        f"the retrain slot of {model!r} ({limit_name(model)}) is held by {who}; waited "
        f"{wait_seconds:g} s ([prefect] retrain_wait_seconds). Nothing was counted against the "
        "batch. Run again when that retrain ends; if that process is gone, `driftloop "
        "unlock` releases the slot (it refuses while the holder is alive)."
    )


def _acquire(model: str, wait_seconds: float, lease_seconds: float) -> Holder:
    """Take the slot, releasing it from a dead holder; SlotBusy after waiting on a live one."""
    start = time.monotonic()
    unknown_since: float | None = None
    with get_client(sync_client=True) as client:
        while True:
            lease = _try_take(client, model, lease_seconds)
            if lease is not None:
                me = Holder.me(str(lease), lease_seconds)
                write_holder(client, model, me)
                return me
            holder = read_holder(client, model)
            now = time.monotonic()
            if holder is None:  # taken a moment ago, or a holder died before its record
                unknown_since = unknown_since if unknown_since is not None else now
                if now - unknown_since > lease_seconds:
                    release_dead(client, model, None)
                    continue
            elif not holder.alive():
                release_dead(client, model, holder)
                continue
            if now - start >= wait_seconds:
                raise _busy(model, holder, wait_seconds)
            time.sleep(min(POLL_SECONDS, max(0.1, wait_seconds - (now - start))))


def _heartbeat(model: str, me: Holder, stop: threading.Event) -> None:
    """Renew the lease and the holder record every third of the lease until stopped."""
    with get_client(sync_client=True) as client:
        while not stop.wait(me.lease_seconds / 3):
            try:
                client.renew_concurrency_lease(
                    UUID(me.lease_id), max(me.lease_seconds, PREFECT_MIN_LEASE)
                )
                write_holder(client, model, Holder(**{**me.__dict__, "renewed": time.time()}))
            except Exception as err:  # a blip of the API: the next beat tries again
                log.warning("retrain slot of %s: lease renewal failed: %s", model, err)


def slot_options(cfg: Config) -> tuple[str, float, float]:
    """The model, wait and lease of `retrain_slot` as the config sets them."""
    return cfg.model.name, cfg.prefect.retrain_wait_seconds, cfg.prefect.retrain_lease_seconds


@contextmanager
def retrain_slot(
    model: str, wait_seconds: float = 600.0, lease_seconds: float = 60.0
) -> Iterator[None]:
    """Hold the model's retrain slot for the block, renewing its lease while the block runs."""
    ensure_retrain_limit(model)
    me = _acquire(model, wait_seconds, lease_seconds)
    stop = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(model, me, stop), daemon=True)
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join(timeout=10)
        try:
            with get_client(sync_client=True) as client:
                client.release_concurrency_slots_with_lease(UUID(me.lease_id))
                clear_holder(client, model, me.lease_id)
        except Exception as err:  # the API is down: the lease runs out on its own
            log.warning("retrain slot of %s not released (%s); its lease runs out", model, err)


def unlock(model: str) -> str:
    """Release the model's retrain slot if its holder is dead; refuse while it is alive."""
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(limit_name(model))
        except ObjectNotFound:
            return f"no retrain slot of {model!r} exists yet ({limit_name(model)}); nothing to do"
        holder = read_holder(client, model)
        if limit.active_slots == 0:
            clear_holder(client, model)
            return f"the retrain slot of {model!r} is free; nothing to do"
        if holder is not None and holder.alive():
            raise SlotBusy(
                f"the retrain slot of {model!r} is held by a live holder: {holder.describe()}. "
                "Not released: let that retrain finish, or stop that process first."
            )
        release_dead(client, model, holder)
        who = holder.describe() if holder else "no holder recorded"
        return f"released the retrain slot of {model!r} (its holder is gone: {who})"
