"""Named crash points between the steps of a run, so tests can kill -9 at each one on purpose.

Set ``DRIFTLOOP_INGEST_KILL_AT=STEP`` (or ``STEP:N`` for the N-th time STEP is reached) and the
process kills itself with SIGKILL there, exactly as an operator's ``kill -9`` would;
``STEP+SECONDS`` kills it that long after STEP is first reached (a fine-tune in progress, say).
Ingest steps, in order: ``hashed``, ``attempt``, ``intent``, ``noted``, ``moved``, ``recorded``.
Every flow task passed through ``lean`` is a step too, ``task:NAME`` as it starts
(``task:detect-drift``, ``task:challenge``, ``task:complete``...), and ``promote`` lies between
the ``previous`` and ``champion`` alias moves of a promotion. Unset (always, in production)
this does nothing.
"""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter

KILL_ENV = "DRIFTLOOP_INGEST_KILL_AT"
STEPS = ("hashed", "attempt", "intent", "noted", "moved", "recorded")
_reached: Counter[str] = Counter()


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def checkpoint(step: str) -> None:
    """Kill this process with SIGKILL if $DRIFTLOOP_INGEST_KILL_AT names this step (and count)."""
    spec = os.environ.get(KILL_ENV, "")
    if not spec:
        return
    want, plus, delay = spec.partition("+")
    head, _, nth = want.rpartition(":")
    if nth.isdigit():
        want = head
    else:
        nth = ""
    if want != step:
        return
    _reached[step] += 1
    if _reached[step] != int(nth or 1):
        return
    if plus:
        threading.Timer(float(delay), _kill).start()
    else:
        _kill()
