"""A process that loaded TensorFlow ends in a fraction of a second instead of 1.5 to 3.5 s.

At exit, after the atexit handlers (Prefect's log and event workers drain, the embedded server
stops), the interpreter runs a last garbage collection over every object still alive: with
TensorFlow, Keras, MLflow and Prefect loaded that walk alone takes seconds, and frees nothing
the operating system would not free anyway. `gc.freeze()` moves every object to the permanent
generation, which that collection skips. It is done in an atexit handler registered before
the others, so it runs last: nothing that flushes or stops is skipped, and a host that calls
`main()` in-process (a test) keeps its garbage collection until its own exit.
"""

from __future__ import annotations

import atexit
import gc

_REGISTERED: list[bool] = []


def freeze_at_exit() -> None:
    """Skip the interpreter's last garbage collection at this process's exit (once)."""
    if not _REGISTERED:
        _REGISTERED.append(True)
        atexit.register(gc.freeze)
