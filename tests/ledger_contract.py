"""What every ledger database must do (SQLite in unit tests, PostgreSQL in integration tests)."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from driftloop.ingest import Ledger, LedgerEntry
from driftloop.ingest.ledger_tables import INTERRUPTED

ROOT = Path(__file__).resolve().parents[1]


def check_protocol(url: str) -> None:
    """Intent -> settle -> manifest record; attempts counted per content; duplicates found."""
    ledger = Ledger(url)
    entry = LedgerEntry("a.csv", "a" * 64, "processed", rows=7, result={"drift": True})
    assert ledger.start_attempt("/l/a.csv", "a.csv", "a" * 64, "fr-1") == 1
    assert ledger.start_attempt("/l/a.csv", "a.csv", "a" * 64, "fr-2") == 2
    assert ledger.start_attempt("/l/a.csv", "a.csv", "b" * 64) == 1  # new content: count anew
    assert ledger.start_attempt("/l/a.csv", "a.csv", "a" * 64) == 1
    assert ledger.in_flight("a" * 64, "/l/other.csv") is not None
    failed = ledger.fail_attempt("/l/a.csv", "OSError: gone")
    assert failed is not None and failed.last_error == "OSError: gone" and failed.attempts == 1
    ledger.intend("/l/a.csv", entry.__class__(**{**entry.__dict__, "destination": "/p/a.csv"}))
    assert [s for s, _ in ledger.moves()] == ["/l/a.csv"]
    done = ledger.settle("/l/a.csv")
    assert done.destination == "/p/a.csv" and done.result == {"drift": True} and done.rows == 7
    assert ledger.moves() == [] and ledger.attempt("/l/a.csv") is None
    assert ledger.find_done("a" * 64) == ledger.find("a" * 64, "processed")
    ledger.record(LedgerEntry("q.csv", "c" * 64, "quarantined", "q.csv: bad", retryable=True))
    assert ledger.find_done("c" * 64) is None  # retryable: moving it back is not a duplicate
    assert [e.batch for e in ledger.recent()] == ["q.csv", "a.csv"]
    assert [e.batch for e in ledger.recent(status="processed")] == ["a.csv"]
    try:
        ledger.settle("/l/a.csv")
    except KeyError:
        pass
    else:
        raise AssertionError("a settled intent was settled a second time")


def _race(workers: int, job: Callable[[int], Any]) -> list[Any]:
    """Run job(i) in `workers` threads released at once; return results or exceptions."""
    gate = threading.Barrier(workers)
    out: list[Any] = [None] * workers

    def run(i: int) -> None:
        gate.wait()
        try:
            out[i] = job(i)
        except Exception as err:
            out[i] = err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return out


def check_concurrent(url: str, workers: int = 8, rounds: int = 5) -> None:
    """Concurrent writers: no lost attempt count, an intent settled by exactly one of them."""
    ledger = Ledger(url)

    def count(_: int) -> list[int]:
        return [ledger.start_attempt("/l/hot.csv", "hot.csv", "d" * 64) for _ in range(rounds)]

    got = _race(workers, count)
    assert not [g for g in got if isinstance(g, Exception)], got
    seen = sorted(n for g in got for n in g)
    assert seen == list(range(1, workers * rounds + 1)), "an attempt count was lost or repeated"
    ledger.intend("/l/hot.csv", LedgerEntry("hot.csv", "d" * 64, "processed", destination="/p/x"))
    settled = _race(workers, lambda _: ledger.settle("/l/hot.csv"))
    wins = [s for s in settled if isinstance(s, LedgerEntry)]
    assert len(wins) == 1, settled
    assert all(isinstance(s, KeyError) for s in settled if s not in wins), settled
    assert [e.batch for e in ledger.recent(100)].count("hot.csv") == 1


_WRITER = """
import sys
from driftloop.ingest import Ledger, LedgerEntry
ledger = Ledger(sys.argv[1])
ledger.start_attempt("/l/w.csv", "w.csv", "e" * 64, "fr-w")
ledger.intend("/l/w.csv", LedgerEntry("w.csv", "e" * 64, "quarantined", "w.csv: why",
                                      destination="/q/w.csv"))
ledger.record(LedgerEntry("r.csv", "f" * 64, "processed", rows=3, result={"action": "none"}))
"""


def check_restart(url: str) -> None:
    """Records written by one process (which then exits) are read by a fresh process."""
    subprocess.run([sys.executable, "-c", _WRITER, url], check=True, cwd=ROOT, timeout=120)
    ledger = Ledger(url)  # this process: a new engine, nothing cached from the writer
    (done,) = [e for e in ledger.recent(100) if e.batch == "r.csv"]
    assert done.rows == 3 and done.result == {"action": "none"} and done.recorded_at
    ((source, entry),) = [m for m in ledger.moves() if m[0] == "/l/w.csv"]
    assert entry.destination == "/q/w.csv" and entry.reason == "w.csv: why"
    attempt = ledger.attempt(source, "e" * 64)
    assert attempt is not None and attempt.attempts == 1 and attempt.last_error == INTERRUPTED
