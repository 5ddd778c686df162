"""Crash safety of ingest: a crash between any two steps leaves every batch waiting or recorded.

The crash is simulated in-process by raising at the named crash points of
`driftloop.ingest.faults` (the subprocess kill -9 test is tests/behaviour/test_ingest_kill.py).
`check_invariants` is shared with that test.
"""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path

import pytest

from driftloop.core.config import Config, load_config
from driftloop.ingest import Ledger, admit, complete, recover, zone_of
from driftloop.ingest.admit import ACCEPTED, PROCESSED
from driftloop.ingest.faults import STEPS
from tests.helpers import TINY_SETTINGS, make_project

admit_mod = importlib.import_module("driftloop.ingest.admit")


class Killed(BaseException):
    """Stands for kill -9: nothing after it runs."""


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_invariants(cfg: Config, inputs: dict[str, str], settled: bool = True) -> None:
    """Each input is in exactly one place, the ledger agrees with the folders, none twice."""
    ledger = Ledger(cfg.ledger_url)
    assert ledger.moves() == [], "an interrupted move was not finished"
    places: dict[str, list[str]] = {}
    ended: set[str] = set()
    for folder in (cfg.landing_dir, cfg.processed_dir, cfg.quarantine_dir):
        for p in folder.iterdir() if folder.is_dir() else []:
            if p.name.endswith(".reason.txt") or p.name.startswith("."):
                continue
            places.setdefault(p.name if p.is_symlink() else _sha(p), []).append(str(p))
            if folder != cfg.landing_dir:
                ended.add(str(p))
    names = {Path(p).name for ps in places.values() for p in ps}
    assert set(inputs) <= names | {n for n in inputs if Path(n).is_symlink()}
    for name, sha in inputs.items():
        where = [p for p in places.get(sha, []) if Path(p).name.split(".")[0] == name.split(".")[0]]
        assert len(where) == 1, f"{name} is in {where or 'no place'}"
    entries = ledger.recent(10_000)
    recorded = [e.destination for e in entries]
    assert sorted(recorded) == sorted(ended), "the ledger and the folders disagree"
    for e in entries:
        assert Path(e.destination).is_symlink() or _sha(Path(e.destination)) == e.sha256
        if e.status != PROCESSED:
            assert Path(e.destination + ".reason.txt").is_file()
    done = [e.sha256 for e in entries if e.status == PROCESSED]
    assert len(done) == len(set(done)), "a batch was processed twice"
    if settled:
        assert not any(p.startswith(str(cfg.landing_dir)) for ps in places.values() for p in ps)


def run_once(cfg: Config) -> None:
    """What `driftloop run` does to the files, without the model: recover, admit, complete."""
    ledger = Ledger(cfg.ledger_url)
    zone = zone_of(cfg)
    recover(zone, ledger)
    for path in zone.pending():
        adm = admit(path, cfg, ledger, flow_run_id="run")
        if adm.status == ACCEPTED:
            complete(adm, cfg, ledger, {"action": "none", "flow_run_id": "run"})


def _project(tmp_path: Path) -> tuple[Config, dict[str, str]]:
    project = make_project(tmp_path, TINY_SETTINGS)
    good = project.stream.batches[0].frame.head(40)
    project.drop(good, "a.csv")
    project.drop(project.stream.batches[1].frame.head(40), "b.parquet")
    project.drop(good.drop(columns="x2"), "bad.csv")
    project.drop(good, "a-again.csv")
    cfg = load_config(project.config)
    return cfg, {p.name: _sha(p) for p in cfg.landing_dir.iterdir()}


def _crash_at(monkeypatch: pytest.MonkeyPatch, step: str, nth: int) -> None:
    seen = {"n": 0}

    def point(name: str) -> None:
        if name == step:
            seen["n"] += 1
            if seen["n"] == nth:
                raise Killed(step)

    monkeypatch.setattr(admit_mod, "checkpoint", point)


# How often each step is reached by one run over the four batches of `_project`.
REACHED = {"hashed": 4, "attempt": 3, "intent": 4, "noted": 2, "moved": 4, "recorded": 4}


@pytest.mark.parametrize(("step", "nth"), [(s, n) for s in STEPS for n in range(1, REACHED[s] + 1)])
def test_a_crash_at_any_step_leaves_each_batch_waiting_or_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str, nth: int
) -> None:
    cfg, inputs = _project(tmp_path)
    _crash_at(monkeypatch, step, nth)
    with pytest.raises(Killed):
        run_once(cfg)
    monkeypatch.undo()
    recover(zone_of(cfg), Ledger(cfg.ledger_url))  # the start of the next run
    check_invariants(cfg, inputs, settled=False)
    run_once(cfg)
    check_invariants(cfg, inputs)
    statuses = {e.batch: e.status for e in Ledger(cfg.ledger_url).recent(100)}
    assert statuses == {
        "a.csv": "processed",
        "b.parquet": "processed",
        "bad.csv": "quarantined",
        "a-again.csv": "duplicate",
    }


def test_the_invariant_check_catches_a_move_before_record_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, inputs = _project(tmp_path)

    def buggy_finish(zone, ledger, source, entry):  # type: ignore[no-untyped-def]
        dest = zone.free_name(zone.processed, entry.batch, entry.sha256)
        zone.move(source, dest)  # moved first ...
        raise Killed("moved")  # ... and killed before anything was recorded

    monkeypatch.setattr(admit_mod, "finish", buggy_finish)
    with pytest.raises(Killed):
        run_once(cfg)
    monkeypatch.undo()
    run_once(cfg)
    with pytest.raises(AssertionError, match="disagree|no place|processed twice"):
        check_invariants(cfg, inputs)


def test_an_interrupted_attempt_counts_and_ends_in_quarantine(tmp_path: Path) -> None:
    cfg, _ = _project(tmp_path)
    ledger = Ledger(cfg.ledger_url)
    path = str(cfg.landing_dir / "a.csv")
    for n in (1, 2, 3):  # accepted, then the run dies before the outcome
        adm = admit(path, cfg, ledger)
        assert adm.status == ACCEPTED and adm.attempts == n
    adm = admit(path, cfg, ledger)
    assert adm.status == "quarantined"
    assert "processing failed 3 time(s), [ingest] max_attempts = 3" in adm.reason
    assert "interrupted" in adm.reason
    again = cfg.landing_dir / "a.csv"
    Path(adm.destination).rename(again)  # fixed: sent back, not a duplicate
    assert admit(str(again), cfg, ledger).status == ACCEPTED


def test_a_failed_attempt_goes_to_quarantine_after_max_attempts(tmp_path: Path) -> None:
    from driftloop.ingest import fail

    cfg, _ = _project(tmp_path)
    ledger = Ledger(cfg.ledger_url)
    path = str(cfg.landing_dir / "b.parquet")
    for n in (1, 2):
        assert admit(path, cfg, ledger, flow_run_id=f"run-{n}").attempts == n
        assert fail(path, cfg, ledger, "OSError: store away") == f"attempt {n} of 3"
        assert Path(path).is_file()
    admit(path, cfg, ledger, flow_run_id="run-3")
    assert fail(path, cfg, ledger, "OSError: store away").endswith("moved to quarantine")
    (entry,) = Ledger(cfg.ledger_url).recent()
    assert entry.status == "quarantined" and entry.attempts == 3 and entry.retryable
    assert entry.flow_run_id == "run-3"  # the run whose attempt gave up
    assert "last error: OSError: store away" in entry.reason
