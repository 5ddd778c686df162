"""A corpus of broken batches: each ends in quarantine with its own reason, good ones around it
are processed, and the ledger and the folders agree on every file."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from driftloop.core.config import load_config
from driftloop.ingest import Ledger, admit, zone_of
from driftloop.ingest.admit import ACCEPTED, QUARANTINED
from driftloop.ingest.names import fit_name
from tests.helpers import TINY_SETTINGS, Project, cli, make_project

Writer = Callable[[Path, pd.DataFrame], None]


def _csv(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Writer:
    return lambda path, good: change(good).to_csv(path, index=False)


def _bytes(make: Callable[[pd.DataFrame], bytes]) -> Writer:
    return lambda path, good: path.write_bytes(make(good))


def _truncated_parquet(path: Path, good: pd.DataFrame) -> None:
    good.to_parquet(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _partial(good: pd.DataFrame) -> bytes:
    text = good.to_csv(index=False)
    return text[: text.rindex(",", 0, len(text) - 2)].encode()  # cut inside the last row


def _huge_field(good: pd.DataFrame) -> bytes:
    text = good.to_csv(index=False)
    return (text + "1,2,3," + "z" * (3 << 20) + ",low,1\n").encode()


def _latin1(good: pd.DataFrame) -> bytes:
    return good.assign(c1=["é"] * len(good)).to_csv(index=False).encode("latin-1")


def _jsonl(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Writer:
    return lambda path, good: change(good).to_json(path, orient="records", lines=True)


def _parquet(change: Callable[[pd.DataFrame], pd.DataFrame]) -> Writer:
    return lambda path, good: change(good).to_parquet(path, index=False)


def _jsonl_text(good: pd.DataFrame) -> str:
    return str(good.to_json(orient="records", lines=True))


def _late_key(good: pd.DataFrame) -> bytes:
    """Over 1 MiB of good lines (the first read block), then a line with a new key."""
    big = pd.concat([good] * 300, ignore_index=True)
    return (
        _jsonl_text(big) + '{"x1": 1, "x2": 2, "x3": 3, "c1": "a", "c2": "low", '
        '"label": 1, "late": 5}\n'
    ).encode()


def _huge_line(good: pd.DataFrame) -> bytes:
    return (_jsonl_text(good) + '{"x1": "' + "z" * (3 << 20) + '"}\n').encode()


def _bad_line(good: pd.DataFrame) -> bytes:
    lines = _jsonl_text(good).splitlines()
    lines[29] = lines[29][:-1]  # line 30 loses its closing brace
    return ("\n".join(lines) + "\n").encode()


def _rename(**names: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda g: g.rename(columns=names)


def _zip(good: pd.DataFrame) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("batch.csv", good.to_csv(index=False))
    return buf.getvalue()


LONG = "数" * 82 + ".csv"  # 250 bytes: a reason file's temporary name would not fit


# name -> (how to write it from a good frame, what its reason must say)
CORPUS: dict[str, tuple[Writer, str]] = {
    "empty.csv": (_bytes(lambda g: b""), "the file is empty"),
    "header-only.csv": (_bytes(lambda g: b"x1,x2,x3,c1,c2,label\n"), "a header but no rows"),
    "missing-column.csv": (_csv(lambda g: g.drop(columns="x2")), "missing column(s) ['x2']"),
    "extra-column.csv": (_csv(lambda g: g.assign(note="hi")), "unexpected column(s) ['note']"),
    "wrong-type.csv": (
        _csv(lambda g: g.assign(x1=["oops"] * 4 + [*g["x1"][4:]])),
        "column 'x1' must be numeric, but 4 of 60 row(s) are not numbers",
    ),
    "all-nan.csv": (_csv(lambda g: g.assign(x2=np.nan)), "column 'x2' is empty in all 60 rows"),
    "infinities.csv": (
        _csv(lambda g: g.assign(x3=[np.inf, -np.inf, *g["x3"][2:]])),
        "column 'x3' holds 2 infinite value(s)",
    ),
    "truncated.parquet": (_truncated_parquet, "not a complete Parquet file"),
    "garbage.csv": (_bytes(lambda g: bytes(range(256)) * 40), "holds binary data (a NUL byte"),
    "semicolons.csv": (
        _bytes(lambda g: g.to_csv(index=False, sep=";").encode()),
        "delimited by semicolons",
    ),
    "dup-names.csv": (
        _bytes(lambda g: b"x1,x2,x3,c1,c2,x1\n" + b"1,2,3,a,low,4\n" * 30),
        "duplicate column names ['x1']",
    ),
    "huge-field.csv": (_bytes(_huge_field), "one field is larger than the 1 MiB read block"),
    "latin1.csv": (_bytes(_latin1), "not UTF-8 text (invalid continuation byte"),
    "partial.csv": (_bytes(_partial), "the last row is cut off"),
    "missing-labels.csv": (
        _csv(lambda g: g.assign(label=[None] * 3 + [*g["label"][3:]])),
        "target column 'label' is empty in 3 row(s)",
    ),
    "too-few.csv": (_csv(lambda g: g.head(5)), "5 row(s), fewer than [ingest] min_rows = 20"),
    "out-of-range.csv": (
        _csv(lambda g: g.assign(x2=[1e6] * 7 + [*g["x2"][7:]])),
        "column 'x2' holds 7 of 60 row(s) outside [ingest] ranges x2 = [-100.0, 100.0]",
    ),
    "bad-jsonl.jsonl": (_bytes(lambda g: b'{"x1": 1, "x2": \n'), "cannot be read as jsonl"),
    "notes.txt": (_bytes(lambda g: b"hello"), "unsupported file type '.txt'"),
    "x%2f..%2f..%2fetc%2fpasswd.csv": (_csv(lambda g: g), "holds a path traversal"),
    "link-out.csv": (None, "is a symbolic link to"),  # type: ignore[dict-item]
    "json-array.jsonl": (
        _bytes(lambda g: g.to_json(orient="records").encode()),
        "line 1 is a JSON array, not an object; JSON Lines holds one object per line",
    ),
    "json-number-line.jsonl": (
        _bytes(lambda g: (_jsonl_text(g) + "42\n").encode()),
        "line 61 is a JSON number, not an object",
    ),
    "json-bad-line.jsonl": (_bytes(_bad_line), "line 30 is not valid JSON"),
    "json-cut.jsonl": (
        _bytes(lambda g: _jsonl_text(g).rstrip("\n")[:-5].encode()),
        "the last line (60) is cut off",
    ),
    "json-list-value.jsonl": (
        _jsonl(lambda g: g.assign(x1=[[1.0, 2.0]] * len(g))),
        "column 'x1' holds lists or objects (JSON arrays or objects, Parquet lists) in 60 of 60 "
        "row(s) (e.g. [1.0, 2.0])",
    ),
    "json-object-value.jsonl": (
        _jsonl(lambda g: g.assign(c1=[{"a": 1}] * 5 + [*g["c1"][5:]])),
        "column 'c1' holds lists or objects (JSON arrays or objects, Parquet lists) in 5 of 60",
    ),
    "json-missing-key.jsonl": (_jsonl(lambda g: g.drop(columns="x2")), "missing column(s) ['x2']"),
    "json-late-key.jsonl": (_bytes(_late_key), "unexpected column(s) ['late']"),
    "json-wrong-type.jsonl": (
        _jsonl(lambda g: g.assign(x1=["oops"] * 4 + [*g["x1"][4:]])),
        "column 'x1' must be numeric, but 4 of 60 row(s) are not numbers (e.g. 'oops')",
    ),
    "json-huge-line.jsonl": (_bytes(_huge_line), "line 61 is larger than the 1 MiB read block"),
    "json-blank.jsonl": (_bytes(lambda g: b"\n\n  \n"), "holds no JSON object, only 3 blank"),
    "json-nul.jsonl": (_bytes(lambda g: b'{"x1": 1}\n\x00\n'), "holds binary data (a NUL byte"),
    "json-latin1.jsonl": (
        _bytes(
            lambda g: str(
                g.assign(c1="é").to_json(orient="records", lines=True, force_ascii=False)
            ).encode("latin-1")
        ),
        "not UTF-8 text",
    ),
    "json-too-few.jsonl": (_jsonl(lambda g: g.head(5)), "5 row(s), fewer than [ingest] min_rows"),
    "label-space.csv": (
        _csv(_rename(label="label ")),
        "no target column 'label', but the batch has 'label ': did you mean 'label'?",
    ),
    "label-case.parquet": (
        _parquet(_rename(label="Label")),
        "no target column 'label', but the batch has 'Label': did you mean 'label'?",
    ),
    "x1-case.csv": (
        _csv(_rename(x1="X1")),
        "missing column(s) ['x1'] (absent from all 60 rows); the batch has 'X1' (did you mean "
        "'x1'?): names are matched exactly, case and spaces included",
    ),
    "x1-space.jsonl": (_jsonl(_rename(x1="x1 ")), "the batch has 'x1 ' (did you mean 'x1'?)"),
    LONG: (_csv(lambda g: g.drop(columns="x3")), "missing column(s) ['x3']"),
    "..\\..\\x.csv": (_csv(lambda g: g.iloc[1:]), "holds a path traversal"),
    "target-all-empty.csv": (
        _csv(lambda g: g.assign(label=None)),
        "target column 'label' is empty in 60 row(s)",
    ),
    "inf-text.csv": (
        _bytes(lambda g: g.assign(x3=["inf", *g["x3"][1:]]).to_csv(index=False).encode()),
        "column 'x3' holds 1 infinite value(s)",
    ),
    "tabs.csv": (_bytes(lambda g: g.to_csv(index=False, sep="\t").encode()), "delimited by tabs"),
    "pipes.csv": (_bytes(lambda g: g.to_csv(index=False, sep="|").encode()), "delimited by pipes"),
    "ragged.csv": (
        _bytes(lambda g: (g.to_csv(index=False) + "1,2,3,a,low,1,9\n" * 2).encode()),
        "a row has 7 field(s) where the header has 6",
    ),
    "zip-as.csv": (_bytes(_zip), "holds binary data (a NUL byte"),
    "batch": (_csv(lambda g: g.iloc[2:]), "unsupported file type ''"),
    "batch.csv.gz": (_csv(lambda g: g.iloc[3:]), "unsupported file type '.gz'"),
    "csv-as.parquet": (_csv(lambda g: g.iloc[4:]), "not a complete Parquet file"),
    "parquet-list.parquet": (
        _parquet(lambda g: g.assign(x2=[[1.0, 2.0]] * len(g))),
        "column 'x2' holds lists or objects (JSON arrays or objects, Parquet lists) in 60 of 60 "
        "row(s) (e.g. [1.0, 2.0])",
    ),
    "parquet-missing.parquet": (
        _parquet(lambda g: g.drop(columns="c1")),
        "missing column(s) ['c1']",
    ),
    "parquet-extra.parquet": (_parquet(lambda g: g.assign(z=1)), "unexpected column(s) ['z']"),
    "parquet-wrong-type.parquet": (
        _parquet(lambda g: g.assign(x1="text")),
        "column 'x1' must be numeric, but 60 of 60 row(s) are not numbers (e.g. 'text')",
    ),
    "parquet-range.parquet": (
        _parquet(lambda g: g.assign(x2=500.0)),
        "column 'x2' holds 60 of 60 row(s) outside [ingest] ranges x2 = [-100.0, 100.0]",
    ),
}
# Left in landing/ untouched, each with one log line: name -> (how to make it, the line).
LEFT_ALONE: dict[str, tuple[Callable[[Path], None], str]] = {
    "sub": (lambda p: p.mkdir(), "sub: a folder in the landing folder, left alone"),
    "pipe.csv": (lambda p: os.mkfifo(p), "pipe.csv: a named pipe (FIFO) in the landing folder"),
    ".hidden.csv": (lambda p: p.write_text("x1\n1\n"), ".hidden.csv: hidden or temporary name"),
    "upload.csv.part": (lambda p: p.write_text("x1\n"), "upload.csv.part: hidden or temporary"),
    "export.csv.tmp": (lambda p: p.write_text("x1\n"), "export.csv.tmp: hidden or temporary"),
}
# Odd but good: accepted with all their rows.
ODD_GOOD: dict[str, Writer] = {
    "bom.csv": _bytes(lambda g: g.to_csv(index=False).encode("utf-8-sig")),
    "crlf.csv": _bytes(lambda g: g.to_csv(index=False, lineterminator="\r\n").encode()),
    "shuffled-keys.jsonl": _jsonl(lambda g: g[["label", "c2", "x3", "c1", "x2", "x1"]]),
    "json-nulls.jsonl": _jsonl(lambda g: g.assign(x1=[None] * 3 + [*g["x1"][3:]])),
}
SETTINGS = TINY_SETTINGS + (
    '\n[ingest]\nextra_columns = "reject"\nblock_mib = 1\nranges = { x2 = [-100, 100] }\n'
)


def write_corpus(landing: Path, good: pd.DataFrame, outside: Path) -> None:
    """Write every corpus file into landing (the symlink points at a file in `outside`)."""
    landing.mkdir(parents=True, exist_ok=True)
    for name, (write, _) in CORPUS.items():
        if write is None:
            secret = outside / "secret.csv"
            good.to_csv(secret, index=False)
            os.symlink(secret, landing / name)
        else:
            write(landing / name, good)


def _good(project: Project, index: int = 0, rows: int = 60) -> pd.DataFrame:
    return project.stream.batches[index].frame.head(rows).copy()


def test_every_kind_of_bad_batch_gets_its_own_reason(tmp_path: Path) -> None:
    project = make_project(tmp_path, SETTINGS)
    cfg = load_config(project.config)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write_corpus(cfg.landing_dir, _good(project), outside)
    ledger = Ledger(cfg.ledger_url)
    assert len(CORPUS) + len(LEFT_ALONE) + len(ODD_GOOD) == 64  # the count in ingest/README.md
    for name, (_, expected) in CORPUS.items():
        adm = admit(cfg.landing_dir / name, cfg, ledger)
        assert adm.status == QUARANTINED, (name, adm.reason)
        assert expected in adm.reason, (name, adm.reason)
        note = Path(adm.destination + ".reason.txt").read_text(encoding="utf-8")
        assert note.strip() == adm.reason.strip()
    assert (outside / "secret.csv").is_file()  # the link moved, never the file it points at
    assert os.path.islink(cfg.quarantine_dir / "link-out.csv")
    assert list(cfg.landing_dir.iterdir()) == []
    recorded = {e.batch: e for e in ledger.recent(100)}
    assert set(recorded) == set(CORPUS)
    assert all(e.status == QUARANTINED and e.reason for e in recorded.values())


def test_folders_pipes_and_names_being_written_are_left_alone_with_a_line_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    project = make_project(tmp_path, SETTINGS)
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    for name, (make, _) in LEFT_ALONE.items():
        make(cfg.landing_dir / name)
    with caplog.at_level(logging.INFO, logger="driftloop.ingest.zone"):
        assert zone_of(cfg).pending() == []
    lines = [r.getMessage() for r in caplog.records]
    for name, (_, line) in LEFT_ALONE.items():
        assert sum(x.startswith(line) for x in lines) == 1, (name, lines)
    assert sorted(os.listdir(cfg.landing_dir)) == sorted(LEFT_ALONE)
    assert Ledger(cfg.ledger_url).recent() == []


def test_odd_but_good_files_are_accepted_whole(tmp_path: Path) -> None:
    project = make_project(tmp_path, SETTINGS)
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    ledger = Ledger(cfg.ledger_url)
    for i, (name, write) in enumerate(ODD_GOOD.items()):
        write(cfg.landing_dir / name, _good(project).iloc[i:])
        adm = admit(cfg.landing_dir / name, cfg, ledger)
        assert (adm.status, adm.rows, adm.has_labels) == (ACCEPTED, 60 - i, True), adm.reason
        assert adm.frame is not None
        assert list(adm.frame.columns) == ["x1", "x2", "x3", "c1", "c2", "label"]


@pytest.mark.parametrize("block_mib", [1, 16])
def test_a_json_key_first_seen_after_the_first_block_is_the_same_whatever_the_block(
    tmp_path: Path, block_mib: int
) -> None:
    settings = TINY_SETTINGS + f"\n[ingest]\nblock_mib = {block_mib}\n"
    project = make_project(tmp_path, settings)
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    path = cfg.landing_dir / "late.jsonl"
    path.write_bytes(_late_key(_good(project)))
    adm = admit(path, cfg, Ledger(cfg.ledger_url))
    assert (adm.status, adm.rows) == (ACCEPTED, 18_001), adm.reason  # 'late' ignored


def test_a_target_key_missing_from_some_json_lines_is_counted_whatever_the_block(
    tmp_path: Path,
) -> None:
    project = make_project(tmp_path, TINY_SETTINGS + "\n[ingest]\nblock_mib = 1\n")
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    big = pd.concat([_good(project)] * 300, ignore_index=True)
    text = _jsonl_text(big.drop(columns="label")) + _jsonl_text(_good(project))
    path = cfg.landing_dir / "half-labelled.jsonl"
    path.write_text(text, encoding="utf-8")
    adm = admit(path, cfg, Ledger(cfg.ledger_url))
    assert adm.status == QUARANTINED
    assert "target column 'label' is empty in 18000 row(s)" in adm.reason


def test_a_path_outside_the_landing_zone_is_refused_untouched(project: Project) -> None:
    cfg = load_config(project.config)
    cfg.ensure_dirs()
    victim = project.root / "outside.csv"
    _good(project).to_csv(victim, index=False)
    with pytest.raises(Exception, match="outside the landing zone"):
        admit(cfg.landing_dir / ".." / "outside.csv", cfg, Ledger(cfg.ledger_url))
    with pytest.raises(Exception, match="outside the landing zone"):
        admit(victim, cfg, Ledger(cfg.ledger_url))
    assert victim.is_file() and Ledger(cfg.ledger_url).recent() == []


def test_good_formats_and_accepted_extra_column(project: Project) -> None:
    cfg = load_config(project.config)
    landing = cfg.landing_dir
    landing.mkdir(parents=True)
    good = _good(project)
    good.to_json(landing / "good.jsonl", orient="records", lines=True)
    good.assign(note="fine").to_csv(landing / "extra-ok.csv", index=False)
    good.iloc[::-1].to_parquet(landing / "good.parquet", index=False)
    ledger = Ledger(cfg.ledger_url)
    for name in ("good.jsonl", "extra-ok.csv", "good.parquet"):
        adm = admit(landing / name, cfg, ledger)
        assert adm.status == ACCEPTED and adm.rows == 60, adm.reason
        assert adm.frame is not None and list(adm.frame.columns) == [
            "x1",
            "x2",
            "x3",
            "c1",
            "c2",
            "label",
        ]


def test_corpus_through_the_real_pipeline_with_good_batches_around_it(tmp_path: Path) -> None:
    project = make_project(tmp_path, SETTINGS)
    cfg_path = str(project.config)
    assert cli("bootstrap", "--config", cfg_path, "--data", str(project.bootstrap_csv)).code == 0
    cfg = load_config(project.config)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    write_corpus(cfg.landing_dir, _good(project), outside)
    stable = _good(project, 1, 200)
    extra = {
        "flood.csv": (
            stable.drop(columns="label").assign(c2=[f"new{i}" for i in range(200)]),
            "column 'c2' holds 200 of 200 row(s) (100%) with categories champion version 1 "
            "never saw",
        ),
        "new-class.csv": (
            stable.assign(label=2),
            "'label' holds 200 row(s) with class(es) ['2'] that champion version 1",
        ),
    }
    goods = {"good-a.csv": stable, "good-b.parquet": _good(project, 2, 200).drop(columns="label")}
    for name, frame in [*((n, f) for n, (f, _) in extra.items()), *goods.items()]:
        project.drop(frame, name)
    names = sorted(os.listdir(cfg.landing_dir))
    for i, name in enumerate(names):  # interleave: good batches sit between bad ones
        os.utime(cfg.landing_dir / name, ns=(10**9 * (1000 + i),) * 2, follow_symlinks=False)
    res = cli("run", "--config", cfg_path, "--json")
    assert res.code == 3, res.err  # the corpus batches went to quarantine
    recs = {r["batch"]: r for r in res.json_lines()}
    assert set(recs) == set(names)
    for name in goods:
        assert recs[name]["status"] == "processed" and recs[name]["action"] == "none", recs[name]
        assert recs[name]["flow_run_id"]
    expected = {n: why for n, (_, why) in CORPUS.items()} | {n: w for n, (_, w) in extra.items()}
    for name, why in expected.items():
        assert recs[name]["status"] == QUARANTINED and why in recs[name]["reason"], recs[name]
    assert sorted(os.listdir(cfg.processed_dir)) == sorted(goods)
    quarantined = {p for p in os.listdir(cfg.quarantine_dir) if not p.endswith(".reason.txt")}
    ledger = {e.batch: e for e in Ledger(cfg.ledger_url).recent(100)}
    assert quarantined == {Path(ledger[n].destination).name for n in expected}
    assert Path(ledger[LONG].destination).name == fit_name(LONG, 244)  # shortened to fit
    assert os.listdir(cfg.landing_dir) == []
    assert set(ledger) == set(names)
    for e in ledger.values():
        assert Path(e.destination).parent.name == (
            "processed" if e.status == "processed" else "quarantine"
        )
        assert e.flow_run_id == recs[e.batch]["flow_run_id"]
