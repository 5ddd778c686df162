"""Named crash points between the steps of ingest, so tests can kill -9 at each one on purpose.

Set ``DRIFTLOOP_INGEST_KILL_AT=STEP`` (or ``STEP:N`` for the N-th time STEP is reached) and the
process kills itself with SIGKILL there, exactly as an operator's ``kill -9`` would. Steps, in
order: ``hashed``, ``attempt``, ``intent``, ``noted``, ``moved``, ``recorded``. Unset (always, in
production) this does nothing.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

KILL_ENV = "DRIFTLOOP_INGEST_KILL_AT"
STEPS = ("hashed", "attempt", "intent", "noted", "moved", "recorded")
_reached: Counter[str] = Counter()


def checkpoint(step: str) -> None:
    """Kill this process with SIGKILL if $DRIFTLOOP_INGEST_KILL_AT names this step (and count)."""
    spec = os.environ.get(KILL_ENV, "")
    if not spec:
        return
    want, _, nth = spec.partition(":")
    if want != step:
        return
    _reached[step] += 1
    if _reached[step] == int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
