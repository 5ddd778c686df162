"""How the monitor stops on a system fault: the batch's attempt undone, every batch left waiting.

driftloop/core/faults.py says whose fault a failure is. For a batch fault the monitor counts
the attempt (`fail`) and goes on with the next batch. For a system fault it calls `stop_run`:
the attempt this run started on the batch (ingest counts it before any work, so that a batch
that kills the process every time still reaches quarantine) is put back as it was, and the run
ends with one SystemFault naming the fault, its fix and the batches left waiting. If the
ledger itself is what failed, putting the attempt back may fail too; the count then keeps the
one attempt, which is logged.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath

from driftloop.core.config import Config
from driftloop.core.errors import SystemFault
from driftloop.ingest import Ledger
from driftloop.ingest.admit import uncount
from driftloop.ingest.ledger_tables import Attempt

log = logging.getLogger(__name__)


def stop_run(
    fault: SystemFault,
    path: str,
    cfg: Config,
    ledger: Ledger,
    before: Attempt | None,
    left: list[str],
) -> SystemFault:
    """The error to end the run with; the failed batch's attempt count restored first."""
    try:
        uncount(path, cfg, ledger, before)
    except Exception as err:  # the ledger is what failed: the attempt stays counted
        log.warning("%s: its attempt could not be uncounted (%s)", path, err)
    names = [PurePosixPath(str(p)).name for p in left]
    out = type(fault)(
        f"{fault} Nothing was counted against the batches; left waiting: {names}. "
        "Fix the fault and run again."
    )
    out.__cause__ = fault.__cause__
    return out
