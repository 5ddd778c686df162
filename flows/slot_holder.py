"""Who holds a model's retrain slot: a record on the Prefect server, renewed while it lives.

The record (a Prefect variable next to the slot's global concurrency limit) names the holder's
host and process, when it took the slot and when it last renewed its lease. A holder is alive
while its lease is fresh, and is known dead at once when it ran on this host and its process is
gone (a `kill -9`). The record lives where the slot lives, so every process that shares the
Prefect API sees the same one, and it survives a restart of the embedded server.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from prefect.client.orchestration import SyncPrefectClient
from prefect.client.schemas.actions import VariableCreate, VariableUpdate
from prefect.exceptions import ObjectNotFound

HOLDER_PREFIX = "driftloop-retrain-holder-"


@dataclass(frozen=True)
class Holder:
    """One holder of a retrain slot: where it runs, since when, and its lease."""

    host: str
    pid: int
    since: str
    renewed: float
    lease_seconds: float
    lease_id: str
    command: str

    @classmethod
    def me(cls, lease_id: str, lease_seconds: float) -> Holder:
        """The record of this process taking the slot now."""
        now = time.time()
        return cls(
            socket.gethostname(),
            os.getpid(),
            datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds"),
            now,
            lease_seconds,
            lease_id,
            " ".join(os.path.basename(a) if i == 0 else a for i, a in enumerate(_argv())),
        )

    def alive(self, now: float | None = None) -> bool:
        """True while the lease is fresh and (on this host) the holder's process exists."""
        if (now or time.time()) > self.renewed + self.lease_seconds:
            return False
        return self.host != socket.gethostname() or pid_exists(self.pid)

    def describe(self) -> str:
        """One phrase naming the holder, for messages."""
        renewed = datetime.fromtimestamp(self.renewed, UTC).isoformat(timespec="seconds")
        return (
            f"process {self.pid} on {self.host} ({self.command[:80]}), holding it since "
            f"{self.since}, lease last renewed {renewed} for {self.lease_seconds:g} s"
        )


def _argv() -> list[str]:
    return list(sys.argv[:4]) or ["python"]


def pid_exists(pid: int) -> bool:
    """True when a process with this id runs on this host (a zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def holder_variable(model: str) -> str:
    """The Prefect variable that holds the record of the model's slot holder."""
    return HOLDER_PREFIX + re.sub(r"[^a-z0-9_-]", "_", model.lower())


def read_holder(client: SyncPrefectClient, model: str) -> Holder | None:
    """The recorded holder of the model's slot, or None when none is recorded."""
    var = client.read_variable_by_name(holder_variable(model))
    if var is None or not isinstance(var.value, dict):
        return None
    try:
        return Holder(**var.value)
    except TypeError:  # a record of another shape: treat as unknown
        return None


def write_holder(client: SyncPrefectClient, model: str, holder: Holder) -> None:
    """Record (or renew) the model's slot holder."""
    name = holder_variable(model)
    value = asdict(holder)
    if client.read_variable_by_name(name) is None:
        client.create_variable(VariableCreate(name=name, value=value))
    else:
        client.update_variable(VariableUpdate(name=name, value=value))


def clear_holder(client: SyncPrefectClient, model: str, lease_id: str | None = None) -> None:
    """Remove the holder record (only if it still names this lease, when one is given)."""
    if lease_id is not None:
        held = read_holder(client, model)
        if held is None or held.lease_id != lease_id:
            return
    with contextlib.suppress(ObjectNotFound):  # another process removed it a moment ago
        client.delete_variable_by_name(holder_variable(model))
