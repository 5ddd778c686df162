"""`driftloop requeue`: quarantined batches go back for another try, the ledger keeps both
outcomes, and `run` says in its exit status that batches went to quarantine."""

from __future__ import annotations

import json

import pandas as pd

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, LedgerEntry, Zone, recover
from driftloop.ingest.fingerprint import sha256_of
from driftloop.ingest.requeue import by_name, quarantined
from tests.helpers import Project, cli


def _words(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with the classes written as words."""
    return frame.assign(label=frame["label"].map({0: "no", 1: "yes"}))


def test_a_batch_quarantined_for_unknown_classes_is_requeued_and_processed(
    project: Project,
) -> None:
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    batches = project.stream.batches
    project.drop(batches[1].frame.assign(note="x"), "extra.csv")
    project.drop(_words(batches[0].frame), "words.csv")
    text = project.config.read_text() + '\n[ingest]\nextra_columns = "reject"\n'
    project.config.write_text(text)
    first = cli("run", "--config", cfg_path, "--json")
    assert first.code == 3
    assert [(r["batch"], r["status"], r["rows"]) for r in first.json_lines()] == [
        ("extra.csv", "quarantined", 0),
        ("words.csv", "quarantined", 600),
    ]
    assert "driftloop run: 2 batch(es) moved to quarantine: ['extra.csv', 'words.csv']" in (
        first.err
    )
    quarantine = project.work / "quarantine"
    assert sorted(p.name for p in quarantine.iterdir()) == [
        "extra.csv",
        "extra.csv.reason.txt",
        "words.csv",
        "words.csv.reason.txt",
    ]

    # The fix the message names: a model that knows the classes "no" and "yes".
    boot = project.root / "words-train.csv"
    _words(project.stream.bootstrap).to_csv(boot, index=False)
    again = cli("bootstrap", "--config", cfg_path, "--data", str(boot), "--force")
    assert again.code == 0, again.err
    requeued = cli(
        "requeue", "--config", cfg_path, "--quarantined", "--reason", "DOES NOT KNOW", "--json"
    )
    assert requeued.code == 0, requeued.err
    landing = project.work / "landing"
    assert requeued.json_lines() == [
        {"batch": "words.csv", "status": "requeued", "landing": str(landing / "words.csv")}
    ]
    assert sorted(p.name for p in quarantine.iterdir()) == ["extra.csv", "extra.csv.reason.txt"]
    assert [p.name for p in landing.iterdir()] == ["words.csv"]

    second = cli("run", "--config", cfg_path, "--json")
    assert second.code == 0, second.err
    [record] = second.json_lines()
    assert (record["batch"], record["status"], record["rows"]) == ("words.csv", "processed", 600)
    status = json.loads(cli("status", "--config", cfg_path, "--json", "--limit", "4").out)
    assert [(b["batch"], b["status"]) for b in status["batches"]] == [
        ("words.csv", "processed"),
        ("words.csv", "requeued"),
        ("words.csv", "quarantined"),
        ("extra.csv", "quarantined"),
    ]
    assert status["batches"][1]["reason"].startswith(
        f"requeued from {quarantine / 'words.csv'} for another try; it was quarantined at "
    )
    assert "that champion version 1 does not know" in status["batches"][1]["reason"]


def test_requeue_refuses_a_duplicate_and_an_unknown_name_and_moves_nothing(
    project: Project,
) -> None:
    cfg_path = str(project.config)
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    zone, ledger = Zone(cfg.zone_url), Ledger(cfg.ledger_url)
    dup = project.work / "quarantine" / "copy.csv"
    dup.write_text("x1\n1\n")
    ledger.record(
        LedgerEntry(
            "copy.csv",
            "d" * 64,
            "duplicate",
            "duplicate: same content as a.csv",
            destination=str(dup),
        )
    )
    assert [q.record.status for q in quarantined(zone, ledger)] == ["duplicate"]
    res = cli("requeue", "--config", cfg_path, "copy.csv")
    assert res.code == 2 and res.out == ""
    assert res.err == (
        "driftloop requeue: error: copy.csv: quarantined as a duplicate (duplicate: same "
        "content as a.csv); another try would find the same content again, so nothing was "
        "moved. Delete the copy instead.\n"
    )
    missing = cli("requeue", "--config", cfg_path, "nope.csv")
    assert missing.code == 2 and "nope.csv: no quarantined batch of that name in" in missing.err
    both = cli("requeue", "--config", cfg_path, "copy.csv", "--quarantined")
    assert both.code == 2 and "(not both)" in both.err
    assert dup.is_file() and not (project.work / "landing" / "copy.csv").exists()
    assert by_name(zone, quarantined(zone, ledger), []) == []


def test_a_requeue_cut_off_after_its_intent_is_finished_by_the_next_recovery(
    project: Project,
) -> None:
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    zone, ledger = Zone(cfg.zone_url), Ledger(cfg.ledger_url)
    bad = project.work / "quarantine" / "b.csv"
    bad.write_text("x1\n1\n")
    (project.work / "quarantine" / "b.csv.reason.txt").write_text("b.csv: bad\n")
    ledger.record(
        LedgerEntry("b.csv", sha256_of(bad), "quarantined", "b.csv: bad", destination=str(bad))
    )
    dest = str(project.work / "landing" / "b.csv")
    # What `requeue` writes first; then the process dies before the rename.
    intent = LedgerEntry("b.csv", sha256_of(bad), "requeued", "requeued", destination=dest)
    ledger.intend(str(bad), intent)
    [done] = recover(zone, ledger)
    assert (done.status, done.destination) == ("requeued", dest)
    assert sorted(p.name for p in (project.work / "quarantine").iterdir()) == []
    assert [p.name for p in (project.work / "landing").iterdir()] == ["b.csv"]
    assert ledger.moves() == []
