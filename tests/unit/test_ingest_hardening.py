"""Ingest against hostile names, links, other file systems, files still growing, and a second
process holding the zone."""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest

from driftloop.core.config import Config, load_config
from driftloop.core.errors import IngestError, ZoneBusy
from driftloop.ingest import Ledger, admit, complete, recover, zone_of
from driftloop.ingest.admit import ACCEPTED, PROCESSED, QUARANTINED
from driftloop.ingest.names import fit_name
from driftloop.ingest.zone_lock import lock_path, zone_lock
from tests.helpers import TINY_SETTINGS, Project, make_project


def _good(project: Project, rows: int = 60) -> pd.DataFrame:
    return project.stream.batches[0].frame.head(rows).copy()


def _cfg(tmp_path: Path, extra: str = "") -> tuple[Project, Config]:
    project = make_project(tmp_path, TINY_SETTINGS + extra)
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    return project, cfg


def test_a_long_name_is_shortened_to_fit_with_its_reason_file_and_keeps_its_suffix() -> None:
    name = "数" * 81 + ".csv"  # 247 bytes: its reason file's name would be 258
    short = fit_name(name, 255 - len(".reason.txt"))
    assert len(short.encode()) == 242
    assert short.endswith("~" + hashlib.sha256(name.encode()).hexdigest()[:12] + ".csv")
    assert short.startswith("数" * 75)
    assert fit_name("a.csv", 244) == "a.csv"


def test_a_bad_batch_with_a_long_name_is_quarantined_and_the_next_good_one_processed(
    tmp_path: Path,
) -> None:
    project, cfg = _cfg(tmp_path)
    name = "数" * 82 + ".csv"  # 250 bytes
    (cfg.landing_dir / name).write_text("x1,x2\n1,2\n", encoding="utf-8")
    _good(project).to_csv(cfg.landing_dir / "good.csv", index=False)
    ledger = Ledger(cfg.ledger_url)
    bad = admit(cfg.landing_dir / name, cfg, ledger)
    assert bad.status == QUARANTINED and "missing column(s) ['x3', 'c1', 'c2']" in bad.reason
    dest = Path(bad.destination)
    assert dest.parent == cfg.quarantine_dir and len(dest.name.encode()) == 242
    assert Path(bad.destination + ".reason.txt").read_text(encoding="utf-8").startswith(name)
    assert recover(zone_of(cfg), ledger) == [] and ledger.moves() == []
    good = admit(cfg.landing_dir / "good.csv", cfg, ledger)
    assert good.status == ACCEPTED
    assert complete(good, cfg, ledger, {}).status == PROCESSED
    assert (cfg.processed_dir / "good.csv").is_file()


def test_clash_names_of_a_255_byte_name_fit_too(tmp_path: Path) -> None:
    _, cfg = _cfg(tmp_path)
    ledger = Ledger(cfg.ledger_url)
    name = "数" * 83 + "ab.csv"  # 255 bytes, the longest name the file system takes
    shas = []
    for i in range(2):  # two different bad files under the same long name
        (cfg.landing_dir / name).write_text(f"x1\n{i}\n", encoding="utf-8")
        adm = admit(cfg.landing_dir / name, cfg, ledger)
        assert adm.status == QUARANTINED, adm.reason
        shas.append(adm.sha256)
        assert len(Path(adm.destination).name.encode()) <= 244
    names = sorted(p.name for p in cfg.quarantine_dir.iterdir() if not p.name.endswith(".txt"))
    clash = fit_name(f"{name[:-4]}.{shas[1][:12]}.csv", 244)  # the hash of the content added
    assert names == sorted([fit_name(name, 244), clash]) and clash != fit_name(name, 244)


def test_a_symlink_planted_at_the_reason_files_temporary_name_is_never_written_through(
    tmp_path: Path,
) -> None:
    _, cfg = _cfg(tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n", encoding="utf-8")
    for planted in (".bad.csv.reason.txt.tmp", "bad.csv.reason.txt"):
        os.symlink(victim, cfg.quarantine_dir / planted)
    (cfg.landing_dir / "bad.csv").write_text("x1\n1\n", encoding="utf-8")
    adm = admit(cfg.landing_dir / "bad.csv", cfg, Ledger(cfg.ledger_url))
    assert adm.status == QUARANTINED
    assert victim.read_text(encoding="utf-8") == "precious\n"
    note = Path(adm.destination + ".reason.txt")
    assert not note.is_symlink() and note.read_text(encoding="utf-8") == adm.reason + "\n"


def test_a_landing_folder_on_another_file_system_is_copied_verified_then_removed(
    tmp_path: Path,
) -> None:
    project, cfg = _cfg(tmp_path)
    cfg.landing_dir.rmdir()
    with tempfile.TemporaryDirectory(dir="/dev/shm") as other:  # tmpfs: another device
        os.symlink(other, cfg.landing_dir)
        assert os.stat(other).st_dev != os.stat(cfg.processed_dir).st_dev
        _good(project).to_csv(cfg.landing_dir / "good.csv", index=False)
        (cfg.landing_dir / "bad.csv").write_text("x1\n1\n", encoding="utf-8")
        sha = hashlib.sha256((cfg.landing_dir / "good.csv").read_bytes()).hexdigest()
        ledger = Ledger(cfg.ledger_url)
        good = admit(cfg.landing_dir / "good.csv", cfg, ledger)
        assert complete(good, cfg, ledger, {}).status == PROCESSED
        bad = admit(cfg.landing_dir / "bad.csv", cfg, ledger)
        assert bad.status == QUARANTINED
        assert os.listdir(other) == []
        copied = cfg.processed_dir / "good.csv"
        assert hashlib.sha256(copied.read_bytes()).hexdigest() == sha
        assert sorted(os.listdir(cfg.processed_dir)) == ["good.csv"]  # no temporary left
        assert (cfg.quarantine_dir / "bad.csv").read_text(encoding="utf-8") == "x1\n1\n"
        assert recover(zone_of(cfg), ledger) == []
        assert [e.status for e in ledger.recent()] == [QUARANTINED, PROCESSED]
        cfg.landing_dir.unlink()


def test_a_crash_after_the_cross_device_copy_is_settled_by_recovery(tmp_path: Path) -> None:
    project, cfg = _cfg(tmp_path)
    ledger = Ledger(cfg.ledger_url)
    _good(project).to_csv(cfg.landing_dir / "good.csv", index=False)
    adm = admit(cfg.landing_dir / "good.csv", cfg, ledger)
    from dataclasses import replace

    from driftloop.ingest.ledger_tables import LedgerEntry

    dest = str(cfg.processed_dir / "good.csv")
    entry = LedgerEntry("good.csv", adm.sha256, PROCESSED, destination=dest)
    ledger.intend(adm.source, replace(entry))
    os.link(adm.source, dest)  # the copy is in place, the landing file not yet removed
    done = recover(zone_of(cfg), ledger)
    assert [(d.batch, d.status) for d in done] == [("good.csv", PROCESSED)]
    assert os.listdir(cfg.landing_dir) == [] and ledger.moves() == []


def test_a_file_appended_to_after_validation_is_left_waiting_and_recorded_nowhere(
    tmp_path: Path,
) -> None:
    project, cfg = _cfg(tmp_path)
    path = cfg.landing_dir / "growing.csv"
    _good(project).to_csv(path, index=False)
    ledger = Ledger(cfg.ledger_url)
    adm = admit(path, cfg, ledger)
    assert adm.status == ACCEPTED and adm.rows == 60
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("not,a,valid,row\n")
    with pytest.raises(IngestError, match="growing.csv: the file changed while it was processed"):
        complete(adm, cfg, ledger, {})
    assert path.is_file() and ledger.recent() == [] and ledger.moves() == []
    again = admit(path, cfg, ledger)
    assert again.status == QUARANTINED and "growing.csv" in again.reason


def test_a_touched_but_unchanged_file_is_still_completed(tmp_path: Path) -> None:
    project, cfg = _cfg(tmp_path)
    path = cfg.landing_dir / "touched.csv"
    _good(project).to_csv(path, index=False)
    ledger = Ledger(cfg.ledger_url)
    adm = admit(path, cfg, ledger)
    os.utime(path, ns=(10**18, 10**18))
    assert complete(adm, cfg, ledger, {}).status == PROCESSED


def test_folders_pipes_hidden_and_traversal_names_each_get_a_line_and_their_outcome(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project, cfg = _cfg(tmp_path)
    (cfg.landing_dir / "sub").mkdir()
    os.mkfifo(cfg.landing_dir / "pipe.csv")
    _good(project).to_csv(cfg.landing_dir / ".hidden.csv", index=False)
    _good(project).to_csv(cfg.landing_dir / "..\\..\\x.csv", index=False)
    with caplog.at_level(logging.INFO, logger="driftloop.ingest.zone"):
        waiting = zone_of(cfg).pending()
    assert [Path(p).name for p in waiting] == ["..\\..\\x.csv"]
    lines = sorted(r.getMessage() for r in caplog.records)
    assert lines == [
        ".hidden.csv: hidden or temporary name (still being written); left alone",
        "pipe.csv: a named pipe (FIFO) in the landing folder, left alone: driftloop takes only "
        "files placed directly in it (move the files it holds up into landing/)",
        "sub: a folder in the landing folder, left alone: driftloop takes only files placed "
        "directly in it (move the files it holds up into landing/)",
    ]
    adm = admit(waiting[0], cfg, Ledger(cfg.ledger_url))
    assert adm.status == QUARANTINED and "holds a path traversal" in adm.reason


def test_a_labels_folder_inside_landing_is_named_with_the_labels_folder_it_belongs_in(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, cfg = _cfg(tmp_path)
    (cfg.landing_dir / "Labels").mkdir()
    with caplog.at_level(logging.WARNING, logger="driftloop.ingest.zone"):
        assert zone_of(cfg).pending() == []
    assert [r.getMessage() for r in caplog.records] == [
        f"Labels: a folder in the landing folder, left alone: late-label files go in "
        f"{cfg.work_dir / 'labels'} (beside landing/, not in it); move them there"
    ]


def test_a_second_holder_of_the_zone_is_refused_with_who_holds_it(tmp_path: Path) -> None:
    _, cfg = _cfg(tmp_path)
    with zone_lock(cfg), zone_lock(cfg):  # re-entrant in the holding process
        child = subprocess.run(
            [sys.executable, "-c", _TRY_LOCK, str(cfg.source)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": os.getcwd()},
        )
    assert child.returncode == 3, child.stderr
    assert f"another driftloop run (pid {os.getpid()} on " in child.stdout
    assert "this run processed nothing" in child.stdout
    with zone_lock(cfg):  # released on exit
        assert lock_path(cfg) == cfg.work_dir / ".driftloop.lock"


def test_a_killed_holder_releases_the_zone_at_once(tmp_path: Path) -> None:
    _, cfg = _cfg(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(cfg.source)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.getcwd()},
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    with pytest.raises(ZoneBusy, match=f"pid {holder.pid} on"), zone_lock(cfg):
        pass
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=30)
    start = time.monotonic()
    with zone_lock(cfg):
        assert time.monotonic() - start < 1.0


_TRY_LOCK = """
import sys
from driftloop.core.config import load_config
from driftloop.core.errors import ZoneBusy
from driftloop.ingest.zone_lock import zone_lock
try:
    with zone_lock(load_config(sys.argv[1])):
        sys.exit(0)
except ZoneBusy as err:
    print(err)
    sys.exit(3)
"""
_HOLD_LOCK = """
import sys, time
from driftloop.core.config import load_config
from driftloop.ingest.zone_lock import zone_lock
with zone_lock(load_config(sys.argv[1])):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_name_that_is_not_utf8_is_quarantined_and_the_next_batch_processed(
    tmp_path: Path,
) -> None:
    project, cfg = _cfg(tmp_path)
    landing = os.fsencode(str(cfg.landing_dir))
    with open(landing + b"/bad\xff\xfe.csv", "wb") as fh:
        fh.write(_good(project).to_csv(index=False).encode())
    _good(project, 50).to_csv(cfg.landing_dir / "good.csv", index=False)
    ledger = Ledger(cfg.ledger_url)
    first, second = zone_of(cfg).pending()
    odd = admit(first if "good" in second else second, cfg, ledger)
    assert odd.status == QUARANTINED
    assert odd.reason.startswith("bad\\xff\\xfe.csv: the file name is not valid UTF-8")
    assert (cfg.quarantine_dir / "bad\\xff\\xfe.csv").is_file()
    good = admit(cfg.landing_dir / "good.csv", cfg, ledger)
    assert complete(good, cfg, ledger, {}).status == PROCESSED
    assert sorted(e.batch for e in ledger.recent()) == ["bad\\xff\\xfe.csv", "good.csv"]
    assert os.listdir(landing) == []


def test_an_object_store_zone_is_locked_in_the_local_work_folder(tmp_path: Path) -> None:
    _, cfg = _cfg(tmp_path, '\n[ingest]\nzone = "memory://locked-zone"\n')
    key = hashlib.sha256(b"memory://locked-zone").hexdigest()[:16]
    assert lock_path(cfg) == cfg.work_dir / f".zone-{key}.lock"
    with zone_lock(cfg):
        assert lock_path(cfg).read_text(encoding="utf-8").startswith(f"pid {os.getpid()} on ")
