"""One run per landing zone: an OS file lock that the holder's death releases at once.

Every process that moves batches (`driftloop run`, a served monitor run, a worker) takes the
zone's lock before recovery and holds it until its last batch is recorded, so no two of them
can process the same waiting file, and recovery never finishes (or calls ``missing``) an
intent that a live holder is still working on. The lock is ``flock`` on a file: the kernel
drops it when the holder exits or is killed, so a claim never outlives its holder. A local
zone keeps it at ``<zone>/.driftloop.lock`` (shared by every config that names that folder);
an object-store zone, which has no locks, keeps it in the local work folder, which guards
the runs of one machine (run one monitor deployment with concurrency 1 across machines).
A run that finds the lock held waits up to ``[ingest] lock_wait_seconds``, then stops with
``ZoneBusy`` having processed nothing.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import inspect
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from driftloop.core.config import Config, load_config
from driftloop.core.errors import ZoneBusy
from driftloop.ingest.admit import zone_of

log = logging.getLogger(__name__)
LOCK_NAME = ".driftloop.lock"
POLL_SECONDS = 0.5
_HELD: dict[str, int] = {}  # lock path -> depth, for a holder that re-enters (nested flows)
F = TypeVar("F", bound=Callable[..., Any])


def lock_path(cfg: Config) -> Path:
    """The lock file of the configured zone."""
    zone = zone_of(cfg)
    if zone.local:
        return Path(zone.root) / LOCK_NAME
    key = hashlib.sha256(cfg.zone_url.encode("utf-8")).hexdigest()[:16]
    return cfg.work_dir / f".zone-{key}.lock"


def _holder(fd: int) -> str:
    try:
        return os.pread(fd, 256, 0).decode("utf-8", "replace").strip() or "unknown"
    except OSError:
        return "unknown"


def _acquire(path: Path, wait_seconds: float) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = _holder(fd)
            if time.monotonic() >= deadline:
                os.close(fd)
                raise ZoneBusy(
                    f"another driftloop run ({holder}) is processing the landing zone of "
                    f"{path.parent} (lock file {path}); this run processed nothing and left "
                    "every batch to it. Run again when it ends, or set [ingest] "
                    "lock_wait_seconds to wait for it."
                ) from None
            if not told:
                log.warning("waiting for the driftloop run holding %s (%s)", path, holder)
                told = True
            time.sleep(POLL_SECONDS)
    stamp = f"pid {os.getpid()} on {socket.gethostname()} since {datetime.now(UTC):%H:%M:%SZ}"
    os.ftruncate(fd, 0)
    os.pwrite(fd, stamp.encode("utf-8"), 0)
    return fd


@contextmanager
def zone_lock(cfg: Config) -> Iterator[None]:
    """Hold the zone's lock (waiting up to `[ingest] lock_wait_seconds`); re-entrant."""
    path = str(lock_path(cfg))
    if path in _HELD:
        _HELD[path] += 1
        try:
            yield
        finally:
            _HELD[path] -= 1
        return
    fd = _acquire(Path(path), cfg.ingest.lock_wait_seconds)
    _HELD[path] = 1
    try:
        yield
    finally:
        del _HELD[path]
        os.close(fd)  # closing the descriptor releases the lock


def holds_zone(fn: F) -> F:
    """Decorate a flow function taking `config_path` so it runs holding its zone's lock."""

    signature = inspect.signature(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        with zone_lock(load_config(bound.arguments.get("config_path"))):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
