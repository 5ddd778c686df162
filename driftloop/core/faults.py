"""Whose fault a failure is: the batch's (count an attempt) or our own stores' (count nothing).

A batch fault is about the batch itself: its content, its schema, its labels, a model that
cannot train on it. Only those count an attempt, and after `[ingest] max_attempts` of them the
batch goes to quarantine. A system fault is about driftloop's own stores or machine: the
tracking database missing, corrupt or locked; a champion's artifact files gone; the ledger
database unreachable; the Prefect API down; a full disk. A system fault counts nothing: the run
stops with one line naming the fault and the fix, and every batch stays waiting as it was, so
repairing the store and running again processes them. `system_fault` classes an exception
(walking its causes) and returns the SystemFault to stop with, or None for a batch fault.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator

from driftloop.core.errors import DriftloopError, IngestError, SystemFault, TrainingError
from driftloop.core.redact import redact

# Faults of a batch itself: its content or schema (IngestError, SchemaError), a model that
# cannot train on it (TrainingError). Any other failure not matched below counts too.
BATCH_FAULTS = (IngestError, TrainingError)
DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO}
DISK_WORDS = ("database or disk is full", "no space left on device", "disk i/o error")
DATABASE_WORDS = (
    "unable to open database file",
    "file is not a database",
    "database disk image is malformed",
    "database is locked",
    "no such table",
    "readonly database",
    "connection refused",
    "could not connect",
    "connection failed",
    "server closed the connection",
)
API_NAMES = ("ConnectError", "ConnectTimeout", "RemoteProtocolError", "PoolTimeout")


def one_line(text: str) -> str:
    """The text with its line breaks and runs of blanks made single spaces."""
    return " ".join(text.split())


def _chain(err: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [err]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen or len(seen) > 20:
            continue
        seen.add(id(e))
        yield e
        todo += [e.__cause__, e.__context__]


def _disk(e: BaseException) -> str | None:
    text = str(e).lower()
    if (isinstance(e, OSError) and e.errno in DISK_ERRNOS) or any(w in text for w in DISK_WORDS):
        return (
            f"the disk under driftloop's stores is full or failing ({type(e).__name__}: {e}); "
            "free space on it (or move work_dir), then run again"
        )
    return None


def _database(e: BaseException) -> str | None:
    text = str(e).lower()
    if type(e).__name__ in ("OperationalError", "DatabaseError", "InterfaceError") or any(
        w in text for w in DATABASE_WORDS
    ):
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return (
            f"a database of driftloop's stores (the MLflow tracking store or the batch ledger) "
            f"failed: {type(e).__name__}: {first[:300]}; check that it exists, is readable and "
            "writable and that its server is up, then run again"
        )
    return None


def _api(e: BaseException) -> str | None:
    text = str(e)
    if type(e).__name__ in API_NAMES or "PREFECT_API_URL" in text or "reach API at" in text:
        return (
            f"the Prefect API does not answer ({type(e).__name__}: {e}); start the server "
            "(`prefect server start`) or fix [prefect] api_url / $PREFECT_API_URL, then run again"
        )
    return None


def system_fault(err: BaseException) -> SystemFault | None:
    """The SystemFault behind this failure (it or one of its causes), or None for a batch fault."""
    for e in _chain(err):
        if isinstance(e, SystemFault):
            return e
    if isinstance(err, BATCH_FAULTS):
        return None
    if isinstance(err, DriftloopError):  # ours and named (a config or slot error): not the batch's
        fault = SystemFault(one_line(str(err)))
        fault.__cause__ = err
        return fault
    for e in _chain(err):
        if isinstance(e, MemoryError):
            return SystemFault("out of memory; lower [ingest] sample_rows or block_mib")
        for why in (_disk(e), _database(e), _api(e)):
            if why is not None:
                fault = SystemFault(one_line(redact(why)))
                fault.__cause__ = err
                return fault
    return None
