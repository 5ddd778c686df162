"""`driftloop report`, the per-batch report and `driftloop.compare`, on one real loop run.

One module-scoped loop: bootstrap, then a stable batch, a shifted unlabelled one, a broken
one (quarantined) and a concept change (promoted), through the real monitor flow, Keras,
MLflow store and Prefect; every test reads what that run left behind.
"""

from __future__ import annotations

import doctest
import os
import re
import subprocess
import sys
from html import escape
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from driftloop.app.compare import compare
from driftloop.core.config import load_config
from driftloop.drift import ActionTaken, DriftReport, read_json_report, report_markdown
from driftloop.ingest import open_ledger
from tests.helpers import TINY_SETTINGS, Project, cli, make_project

BATCHES = ["stable.csv", "shifted-unlabelled.parquet", "broken.csv", "concept.csv"]
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def looped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Project, Path]:
    """A project after one loop over four batches, and the folder `driftloop report` wrote."""
    project = make_project(tmp_path_factory.mktemp("report"), TINY_SETTINGS)
    cfg = str(project.config)
    assert cli("bootstrap", "--config", cfg, "--data", str(project.bootstrap_csv)).code == 0
    s = project.stream.batches
    frames = [s[0].frame, s[5].frame.drop(columns="label"), s[0].frame.drop(columns="x3")]
    for i, (name, frame) in enumerate(zip(BATCHES, [*frames, s[10].frame], strict=True)):
        os.utime(project.drop(frame, name), ns=(10**9 * (1000 + i),) * 2)
    assert cli("run", "--config", cfg, "--json").code == 3  # broken.csv went to quarantine
    out = project.root / "site"
    res = cli("report", "--config", cfg, "--out", str(out))
    assert res.code == 0, res.err
    assert res.out == f"wrote {out / 'drift-over-time.html'}\n"
    return project, out


def _rows(page: str) -> list[str]:
    return re.findall(r"<tr class='batch[^']*'>(.*?)</tr>", page)


def _cells(row: str) -> list[str]:
    return re.findall(r"<td[^>]*>(.*?)</td>", row)


def _run_file(project: Project, batch: str, name: str) -> Path:
    """A file of the batch's MLflow run, downloaded under the project folder."""
    cfg = load_config(project.config)
    entry = next(e for e in open_ledger(cfg).recent(10) if e.batch == batch)
    client = MlflowClient(tracking_uri=cfg.mlflow_uri)
    folder = project.root / "runs" / batch
    folder.mkdir(parents=True, exist_ok=True)
    return Path(client.download_artifacts(entry.result["mlflow_run_id"], name, str(folder)))


def _concept_report(project: Project) -> DriftReport:
    return read_json_report(_run_file(project, "concept.csv", "drift_report.json"))


def test_the_report_files_of_each_mlflow_run_state_the_action_and_its_reason(
    looped: tuple[Project, Path],
) -> None:
    project, _ = looped
    record = {e.batch: e.result for e in open_ledger(load_config(project.config)).recent(10)}[
        "concept.csv"
    ]
    page = _run_file(project, "concept.csv", "drift_report.html").read_text(encoding="utf-8")
    assert record["action"] == "promoted" and record["challenger_version"] == "2"
    assert f"Action: <b>promoted to v2</b> because {escape(record['reason'])}</p>" in page
    stable = _run_file(project, "stable.csv", "drift_report.html").read_text(encoding="utf-8")
    assert "Action: <b>no retrain</b> because no drift was detected</p>" in stable
    shifted = _run_file(project, "shifted-unlabelled.parquet", "drift_report.md").read_text(
        encoding="utf-8"
    )
    assert shifted.splitlines()[2] == (
        "Action: **no retrain** (drift found, but the batch has no labels to fine-tune on)"
    )


def test_the_page_has_one_row_per_batch_oldest_first_with_versions_and_actions(
    looped: tuple[Project, Path],
) -> None:
    _, out = looped
    page = (out / "drift-over-time.html").read_text(encoding="utf-8")
    rows = [_cells(r) for r in _rows(page)]
    assert [re.sub(r"<[^>]+>", " ", c[2]).split()[0] for c in rows] == BATCHES
    assert [re.sub(r"<[^>]+>", "", c[4]) for c in rows] == [
        "none",
        "drift-unlabelled",
        "quarantined",
        "promoted",
    ]
    assert [c[5] for c in rows] == ["1", "1", "-", "2"]
    assert [c[6] for c in rows] == ["", "", "", "2"]
    assert "<tr class='batch changed'>" in page  # the promotion starts version 2
    assert "accuracy (realized)" in page and "accuracy (estimated)" in page
    assert rows[1][7] == "" and float(rows[0][7]) > 0.8  # unlabelled: no realized score
    estimated = re.fullmatch(r"(0\.\d{4}) \[(0\.\d{3}), (0\.\d{3})\]", rows[1][8])
    assert estimated is not None  # ... but an estimated one, with its band
    assert float(estimated[2]) <= float(estimated[1]) <= float(estimated[3])
    assert page.count("<svg") == 1 and "v2 (promoted)" in page
    assert "http" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_the_heat_map_marks_exactly_the_drifted_tests(looped: tuple[Project, Path]) -> None:
    _, out = looped
    page = (out / "drift-over-time.html").read_text(encoding="utf-8")
    heads = re.findall(r"<th class='rot'>(.*?)</th>", page)
    heads_seen = ["x1", "x2", "x3", "c1", "c2", "prediction drift", "accuracy"]
    assert heads == [*heads_seen, "estimated accuracy"]  # the unlabelled batch's estimate
    marked = []
    for row in _rows(page):
        heat = re.findall(r"<td class='heat([^']*)'", row)
        marked.append([h for h, m in zip(heads, heat, strict=False) if m == " drifted"])
    assert marked == [
        [],
        ["x1", "c1", "prediction drift"],
        [],
        ["x1", "c1", "prediction drift", "accuracy"],
    ]
    shifted = _rows(page)[1]
    assert re.search(r"class='heat drifted' style='background:#[0-9a-f]{6}'", shifted)


def test_each_processed_batch_links_to_its_own_report_file(looped: tuple[Project, Path]) -> None:
    _, out = looped
    page = (out / "drift-over-time.html").read_text(encoding="utf-8")
    links = re.findall(r"<a href='([^']+)'>", page)
    assert links == [
        "batches/0001-stable.csv.html",
        "batches/0002-shifted-unlabelled.parquet.html",
        "batches/0004-concept.csv.html",
    ]
    assert all((out / link).is_file() for link in links)
    assert sorted(p.name for p in (out / "batches").iterdir()) == sorted(
        Path(link).name for link in links
    )
    assert "no drift report: the batch never reached the drift check" in _rows(page)[2]


def test_a_batch_report_counts_features_and_model_signals_apart_and_shows_the_action(
    looped: tuple[Project, Path],
) -> None:
    _, out = looped
    page = (out / "batches" / "0004-concept.csv.html").read_text(encoding="utf-8")
    assert (
        "<h2>Drift detected in 2 of 5 features: x1, c1; "
        "model signals: prediction drift, accuracy drop</h2>"
    ) in page
    assert "<p class='action'>Action: <b>promoted to v2</b> because " in page
    assert "<th>batch rows</th><td class='num'>600</td>" in page
    assert "<th>columns tested</th><td class='num'>5</td>" in page
    assert "<th>missing values in the batch</th><td class='num'>0</td>" in page
    # every column and both model signals get a chart, each with a y-axis title
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert sorted(captions) == sorted(
        [
            "x1 (drifted)",
            "c1 (drifted)",
            "x2",
            "x3",
            "c2",
            "prediction drift (drifted)",
            "accuracy drop (drifted)",
        ]
    )
    assert page.count("<svg") == 7 and page.count("rotate(-90)") == 7
    assert "predicted probability" in page and ">accuracy</text>" in page
    stats = re.search(r"<td><code>x1</code></td>.*?</tr>", page)
    assert stats is not None and stats.group(0).count("mean ") == 2


def test_the_markdown_escapes_test_names_and_names_the_action(
    looped: tuple[Project, Path],
) -> None:
    project, _ = looped
    taken = ActionTaken("promoted", "beat the champion", "2")
    md = report_markdown(_concept_report(project), taken)
    lines = md.splitlines()
    assert lines[0] == (
        "## Drift detected in 2 of 5 features: `x1`, `c1`; "
        "model signals: prediction drift, accuracy drop"
    )
    assert lines[2] == "Action: **promoted to v2** (beat the champion)"
    assert any(line.startswith("| \\_\\_prediction\\_\\_ | prediction-ks |") for line in lines)
    assert "| __prediction__" not in md


def test_compare_finds_exactly_the_shifted_columns_of_a_seeded_stream(
    looped: tuple[Project, Path], tmp_path: Path
) -> None:
    project, _ = looped
    boot = project.stream.bootstrap
    result = compare(boot, project.stream.batches[5].frame, ignore=["label"])
    assert result.drifted_features == ["x1", "c1"]
    assert result.verdict == "Drift detected in 2 of 5 features: x1, c1"
    assert list(result.table["feature"]) == ["x1", "x2", "x3", "c1", "c2"]
    assert list(result.table.columns) == [
        "feature",
        "kind",
        "test",
        "statistic",
        "p_value",
        "effect_size",
        "drifted",
    ]
    saved = result.save_html(tmp_path / "out" / "report.html")
    assert saved.read_text(encoding="utf-8") == result._repr_html_()
    quiet = compare(boot, project.stream.batches[0].frame, ignore=["label"])
    assert quiet.drift is False and quiet.verdict == "No drift detected in 5 features"


def test_compare_names_the_columns_a_batch_lacks() -> None:
    ref = pd.DataFrame({"x": [1.0, 2.0, 3.0], "c": ["a", "b", "a"]})
    with pytest.raises(Exception, match=r"the batch lacks column\(s\) \['c'\] .*ignore=\['c'\]"):
        compare(ref, ref.drop(columns="c"))


def test_report_refuses_a_last_out_of_range(looped: tuple[Project, Path]) -> None:
    project, _ = looped
    res = cli("report", "--config", str(project.config), "--last", "0")
    assert res.code == 2
    assert res.err == "driftloop report: error: --last must be between 1 and 1000, got 0\n"


def test_importing_driftloop_loads_no_app_module_until_compare_is_used() -> None:
    code = (
        "import sys, driftloop; a = sorted(m for m in sys.modules if 'driftloop.app' in m); "
        "driftloop.compare; b = 'driftloop.app.compare' in sys.modules; print(a, b)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[] True"


def test_the_readme_examples_run() -> None:
    failed, tried = doctest.testfile(str(README), module_relative=False, verbose=False)
    assert (failed, tried) == (0, 8)


def test_charts_of_wide_ranges_and_many_categories_keep_labels_short_and_apart() -> None:
    from driftloop.drift import FeatureDrift, report_html
    from driftloop.drift.svg import line_svg

    edges = [10.0**k for k in range(2, 11)]
    wide = FeatureDrift(
        "income",
        "numeric",
        "ks",
        0.2,
        1e-6,
        True,
        1000,
        500,
        0,
        {"histogram": {"edges": edges, "reference_counts": [1] * 10, "batch_counts": [2] * 10}},
        0.3,
    )
    names = [f"city-{i:03d}" for i in range(120)]
    many = FeatureDrift(
        "city",
        "categorical",
        "chi2",
        9.0,
        0.5,
        False,
        1000,
        500,
        0,
        {"categories": names, "reference_counts": [1] * 120, "batch_counts": [1] * 120},
        0.01,
    )
    page = report_html(DriftReport([wide, many], 0.05, "holm", 500, 0.05))
    wide_svg, many_svg = re.findall(r"<svg.*?</svg>", page)
    wide_labels = re.findall(r"rotate\(-45\)[^>]*>([^<]*)</text>", wide_svg)
    assert wide_labels == [
        "\u2264100",
        "\u22641k",
        "\u226410k",
        "\u2264100k",
        "\u22641M",
        "\u226410M",
        "\u2264100M",
        "\u22641e+09",
        "\u22641e+10",
        "&gt;1e+10",  # escaped in the SVG text
    ]
    # 120 bars 26 px apart would put labels 26 px apart: all shown; thinner bars get thinned.
    many_labels = re.findall(r"rotate\(-45\)[^>]*>([^<]*)</text>", many_svg)
    assert len(many_labels) == 120 and "rotate(-90)" in many_svg
    line = line_svg(names, [0.5] * 120, "accuracy", step=5.0)
    crowded = re.findall(r"rotate\(-45\)[^>]*>([^<]*)</text>", line)
    assert len(crowded) == 40 and crowded[:2] == ["city-000", "city-003"]  # 5 px apart: every 3rd


def test_report_of_a_project_with_no_batch_yet_says_how_to_get_one(project: Project) -> None:
    res = cli("report", "--config", str(project.config))
    page = project.work / "reports" / "drift-over-time.html"
    assert (res.code, res.out) == (0, f"wrote {page}\n")
    text = page.read_text(encoding="utf-8")
    assert "<h1>Drift over time: test-model</h1><p>No batch recorded yet: drop files" in text
    assert list((project.work / "reports" / "batches").iterdir()) == []


def test_last_keeps_only_the_newest_batches_still_oldest_first(
    looped: tuple[Project, Path],
) -> None:
    project, _ = looped
    out = project.root / "last-two"
    res = cli("report", "--config", str(project.config), "--out", str(out), "--last", "2")
    assert res.code == 0, res.err
    page = (out / "drift-over-time.html").read_text(encoding="utf-8")
    names = [re.sub(r"<[^>]+>", " ", _cells(r)[2]).split()[0] for r in _rows(page)]
    assert names == ["broken.csv", "concept.csv"]
    assert re.findall(r"<a href='([^']+)'>", page) == ["batches/0002-concept.csv.html"]


def test_column_statistics_are_exact_below_the_sample_size_and_close_above() -> None:
    import numpy as np

    from driftloop.drift import build_profile, detect_drift

    rng = np.random.default_rng(5)
    ref = pd.DataFrame({"x": rng.normal(3.0, 2.0, 4000), "c": rng.choice(["a", "b", "c"], 4000)})
    new = pd.DataFrame({"x": rng.normal(3.5, 2.0, 30000), "c": rng.choice(["a", "b"], 30000)})
    report = detect_drift(build_profile(ref, ["x"], ["c"]), new)
    x, c = report.features[0], report.features[1]
    s = x.details["summary"]
    assert (s["reference_mean"], s["reference_std"]) == (
        float(np.mean(np.sort(ref["x"]))),
        float(np.std(np.sort(ref["x"]))),
    )
    assert abs(s["batch_mean"] - new["x"].mean()) < 0.01
    assert abs(s["batch_std"] - new["x"].std(ddof=0)) < 0.01
    shares = {label: (r, b) for label, r, b in c.details["top_categories"]}
    assert set(shares) == {"a", "b", "c"} and shares["c"][1] == 0.0
    assert shares["a"][0] == float((ref["c"] == "a").mean())
