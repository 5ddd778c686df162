"""The stream bench's figures and checks, on hand-made runs with known answers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bench.stream_metrics import (
    PolicyRun,
    Summary,
    after_drift_means,
    detection_delays,
    summarise,
    targets,
)
from bench.stream_report import END, START, checks_table, replace_section, table


def test_delays_count_from_the_drift_point_and_stop_at_the_next() -> None:
    retrained = [True, False, False, False, True, False, False, True]
    assert detection_delays(retrained, [2, 5]) == [2, 2]
    assert detection_delays(retrained, [1, 3]) == [None, 1]  # the retrain at 4 belongs to 3
    assert detection_delays(retrained, []) == []


def test_a_recall_reacts_to_drift_but_is_no_retrain() -> None:
    run = PolicyRun(
        "driftloop",
        [0.9, 0.3, 0.9, 0.9, 0.3, 0.9],
        [False, True, False, False, False, False],
        actions=["none", "promoted", "none", "none", "recalled", "none"],
        recalled=[False, False, False, False, True, False],
    )
    s = summarise(run, drift_points=[1, 4], stable=[0])
    assert (s.retrains, s.recalls, s.delays, s.false_alarms) == (1, 1, [0, 0], 0)
    assert "| 1 (+1 recalled) |" in table([("recurring", s)])
    early = summarise(run, drift_points=[4], stable=[0, 1, 2, 3])
    assert early.false_alarms == 1  # the retrain at 1 reacted to no drift


def test_after_drift_leaves_the_drift_batch_out_unless_it_is_alone() -> None:
    acc = [0.9, 0.9, 0.1, 0.7, 0.8, 0.2, 0.6]
    assert after_drift_means(acc, [2, 5]) == [0.75, 0.6]
    assert after_drift_means(acc, [5, 6]) == [0.2, 0.6]
    assert after_drift_means(acc, []) == []


def test_summary_counts_false_alarms_only_in_the_stable_stretch() -> None:
    run = PolicyRun("x", [0.9] * 6, [True, False, True, True, True, False], 2.0, 3.0)
    s = summarise(run, drift_points=[3], stable=[0, 1, 2])
    assert (s.retrains, s.false_alarms, s.stable_batches, s.delays) == (4, 2, 3, [0])


def _row(mean: float, retrains: int, after: list[float], alarms: int = 0) -> Summary:
    run = PolicyRun("p", [0.94] * 5 + [mean] * 15, [i < retrains for i in range(20)])
    s = summarise(run, [5], list(range(5)))
    return replace(s, after_drift=after, false_alarms=alarms)


def test_each_target_can_fail() -> None:
    every, never = _row(0.90, 20, [0.90]), _row(0.70, 0, [0.70])
    ok = targets(_row(0.895, 6, [0.80]), every, never, 0.05, 0.02)
    assert all(ok.values())
    bad = targets(_row(0.88, 7, [0.71], alarms=1), every, never, 0.05, 0.02)
    assert not any(bad.values())


def test_a_drift_back_to_the_bootstrap_concept_asks_to_match_never_retrain() -> None:
    never = _row(0.70, 0, [0.30, 0.935])  # the second drift point restores its own concept
    match = targets(_row(0.9, 3, [0.90, 0.93]), never, never, 0.05, 0.02)
    below = targets(_row(0.9, 3, [0.90, 0.92]), never, never, 0.05, 0.02)
    key = "above never-retrain after each drift"
    assert (match[key], below[key]) == (True, False)


def test_tables_and_readme_section(tmp_path: Path) -> None:
    run = PolicyRun("driftloop", [0.9, 0.5, 0.8], [False, True, False], 1.5, 9.0)
    text = table([("concept", summarise(run, [1], [0]))])
    assert "| concept | driftloop | 0.7333 | 0.5000 | 0.800 | 1 | 1.5 | 9.0 | 0 | 0/1 |" in text
    checks = checks_table([("concept", {"a": True, "b": False})])
    assert "| concept | PASS | **FAIL** |" in checks
    readme = tmp_path / "README.md"
    readme.write_text("# Bench\n", encoding="utf-8")
    replace_section(readme, "first")
    replace_section(readme, "second")
    body = readme.read_text(encoding="utf-8")
    assert body == f"# Bench\n\n{START}\nsecond\n{END}\n"
