"""Secrets never leave: passwords in URL settings appear nowhere driftloop writes.

A real PostgreSQL ledger whose URL carries a password (trust auth ignores it) runs the whole
loop: init, bootstrap, run (a drifted labelled batch: fine-tune, gate, promotion), status.
Then the tracking URI, the Prefect API URL and a bad ledger URL carry other secrets, each in a
failing run or a config error. No secret is on stdout or stderr, in the MLflow store (the
SQLite database and every artifact file), in the Prefect store (logs, artifacts, events), in
the ledger's rows or in the work folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.helpers import TINY_SETTINGS, CliResult, cli, make_project
from tests.integration.servers import create_databases, drop_databases, free_port

SECRETS = ("s3cretpw", "hunter2", "alic3pw", "pr3fectpw")
BIN = Path(sys.executable).parent


@pytest.fixture
def ledger_db() -> Iterator[str]:
    name = f"driftloop_secret_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    created = create_databases([name])
    try:
        yield name
    finally:
        drop_databases(created)


def _clean(res: CliResult | subprocess.CompletedProcess[str]) -> str:
    text = res.out + res.err if isinstance(res, CliResult) else res.stdout + res.stderr
    for secret in SECRETS:
        assert secret not in text, text
    return text


def _files_clean(*roots: Path) -> int:
    seen = 0
    for root in roots:
        for p in [root] if root.is_file() else root.rglob("*"):
            if p.is_file():
                data = p.read_bytes()
                seen += 1
                for secret in SECRETS:
                    assert secret.encode() not in data, p
    return seen


def test_passwords_in_url_settings_appear_nowhere_driftloop_writes(
    tmp_path: Path, ledger_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"postgresql://postgres:s3cretpw@127.0.0.1:5432/{ledger_db}"
    project = make_project(tmp_path, TINY_SETTINGS + f'\n[ingest]\nledger_url = "{url}"\n')
    init_dir = tmp_path / "init"
    init_dir.mkdir()
    res = cli(
        "init", "--data", str(project.bootstrap_csv), "--target", "label", "--dir", str(init_dir)
    )
    assert res.code == 0, res.err
    res = cli("bootstrap", "--config", str(project.config), "--data", str(project.bootstrap_csv))
    assert res.code == 0, res.err
    _clean(res)
    project.drop(project.stream.batches[-1].frame, "drifted.csv")
    res = cli("run", "--config", str(project.config), "--json")
    assert res.code == 0, res.err
    assert [r["status"] for r in res.json_lines()] == ["processed"]
    _clean(res)
    res = cli("status", "--config", str(project.config))
    assert res.code == 0, res.err
    _clean(res)

    monkeypatch.setenv(
        "DRIFTLOOP_TRACKING__TRACKING_URI", f"http://alice:alic3pw@127.0.0.1:{free_port()}"
    )
    monkeypatch.setenv("DRIFTLOOP_PREFECT__IO_RETRIES", "0")
    project.drop(project.stream.batches[0].frame, "waiting.csv")
    res = cli("run", "--config", str(project.config))
    assert res.code == 2
    assert "cannot reach the MLflow tracking server at http://***@127.0.0.1:" in _clean(res)
    monkeypatch.delenv("DRIFTLOOP_TRACKING__TRACKING_URI")

    monkeypatch.setenv("DRIFTLOOP_INGEST__LEDGER_URL", "mysql://bob:hunter2@db/x")
    res = cli("run", "--config", str(project.config))
    assert res.code == 2
    assert "ledger_url = 'mysql://***@db/x' is not a sqlite:/// or postgresql://" in _clean(res)
    monkeypatch.delenv("DRIFTLOOP_INGEST__LEDGER_URL")

    env = {k: v for k, v in os.environ.items() if not k.startswith("DRIFTLOOP_")}
    env["DRIFTLOOP_PREFECT__API_URL"] = f"http://carol:pr3fectpw@127.0.0.1:{free_port()}/api"
    run = subprocess.run(
        [str(BIN / "driftloop"), "run", "--config", str(project.config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 2
    assert "the Prefect API does not answer" in _clean(run)

    seen = _files_clean(project.work, Path(os.environ["PREFECT_HOME"]), init_dir)
    assert seen > 20 and (project.work / "mlflow.db").is_file()
    with psycopg.connect(f"postgresql://postgres@127.0.0.1:5432/{ledger_db}") as con:
        rows = con.execute("SELECT * FROM driftloop_batches").fetchall()
    assert len(rows) == 1 and not any(s in repr(rows) for s in SECRETS)
