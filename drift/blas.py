"""One BLAS thread while the per-feature tests run on their own threads.

The Wasserstein sum is a BLAS dot product (as in scipy). On large samples OpenBLAS splits
it over its own threads, which then busy-wait on the very cores the feature threads need:
at 1M + 1M rows on 2 cores that made two feature threads no faster than one. Within
``one_blas_thread()`` BLAS uses one thread per call; the limit is process-wide, counted, so
overlapping checks restore the original setting only when the last one ends.

The dot product's rounding depends on how BLAS splits it, so on more than 10,000 pooled
values the Wasserstein distance computed inside equals scipy's bit for bit when scipy runs
with the same BLAS thread count (``threadpoolctl.threadpool_limits(1)``), and within a few
units in the last place otherwise.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["one_blas_thread"]

_LOCK = threading.Lock()
_STATE: dict[str, Any] = {"depth": 0, "limit": None, "controller": None}


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Limit BLAS to one thread for the duration of the block (nested and concurrent-safe).

    Examples
    --------
    >>> with one_blas_thread():
    ...     pass
    """
    with _LOCK:
        if _STATE["depth"] == 0:
            from threadpoolctl import ThreadpoolController

            if _STATE["controller"] is None:
                _STATE["controller"] = ThreadpoolController()
            _STATE["limit"] = _STATE["controller"].limit(limits=1, user_api="blas")
        _STATE["depth"] += 1
    try:
        yield
    finally:
        with _LOCK:
            _STATE["depth"] -= 1
            if _STATE["depth"] == 0 and _STATE["limit"] is not None:
                _STATE["limit"].restore_original_limits()
                _STATE["limit"] = None
