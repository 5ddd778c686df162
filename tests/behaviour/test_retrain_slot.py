"""The retrain slot is a lease: a killed holder frees it, a live one is named and kept.

The holder is a second process on the same embedded Prefect store (its own temporary server on
the shared PREFECT_HOME database, as two `driftloop run`s in embedded mode are): the case where
a `kill -9` used to leave `active_slots = 1` for good.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from prefect.client.orchestration import get_client

from driftloop.core.errors import SlotBusy
from driftloop.flows.slot_holder import read_holder
from driftloop.flows.slots import limit_name, retrain_slot, unlock

HOLD = """
import sys, time
from driftloop.flows.slots import retrain_slot
with retrain_slot(sys.argv[1], 0.0, float(sys.argv[2])):
    print("held", flush=True)
    time.sleep(600)
"""


@pytest.fixture
def holder(request: pytest.FixtureRequest) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """A process holding the retrain slot of a fresh model name, with a 4 s lease."""
    model = f"slot-{request.node.name[5:30].replace('_', '-')}-{os.getpid()}"
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, model, "4"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        yield proc, model
    finally:  # its embedded Prefect server (a child) outlives a killed holder: end the group
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def _active(model: str) -> int:
    with get_client(sync_client=True) as client:
        return int(client.read_global_concurrency_limit_by_name(limit_name(model)).active_slots)


def test_a_holder_killed_with_sigkill_frees_the_slot_for_the_next_retrain_within_its_lease(
    holder: tuple[subprocess.Popen[str], str],
) -> None:
    proc, model = holder
    assert _active(model) == 1
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _active(model) == 1  # the dead holder's slot is still counted by Prefect
    start = time.monotonic()
    with retrain_slot(model, wait_seconds=30.0, lease_seconds=4.0):
        took = time.monotonic() - start
        assert _active(model) == 1
        with get_client(sync_client=True) as client:
            me = read_holder(client, model)
        assert me is not None and me.pid == os.getpid()
    assert took < 4.0
    assert _active(model) == 0


def test_a_live_holder_keeps_renewing_so_a_second_retrain_waits_then_fails_naming_it(
    holder: tuple[subprocess.Popen[str], str],
) -> None:
    proc, model = holder
    start = time.monotonic()
    with pytest.raises(SlotBusy) as err, retrain_slot(model, wait_seconds=9.0, lease_seconds=4.0):
        pass
    waited = time.monotonic() - start
    assert 9.0 <= waited < 15.0  # more than twice the lease: the holder renewed it meanwhile
    msg = str(err.value)
    assert f"held by process {proc.pid} on {socket.gethostname()}" in msg
    assert "waited 9 s ([prefect] retrain_wait_seconds)" in msg
    assert "`driftloop unlock` releases the slot (it refuses while the holder is alive)" in msg
    assert proc.poll() is None and _active(model) == 1


def test_unlock_refuses_a_live_holder_and_releases_a_dead_one(
    holder: tuple[subprocess.Popen[str], str],
) -> None:
    proc, model = holder
    with pytest.raises(SlotBusy, match=rf"held by a live holder: process {proc.pid} on "):
        unlock(model)
    assert _active(model) == 1
    proc.send_signal(signal.SIGSTOP)  # hung: alive, but it no longer renews its lease
    try:
        time.sleep(5.0)
        released = unlock(model)
    finally:
        proc.send_signal(signal.SIGKILL)
    assert released.startswith(f"released the retrain slot of {model!r} (its holder is gone: ")
    assert _active(model) == 0
    assert unlock(model) == f"the retrain slot of {model!r} is free; nothing to do"
