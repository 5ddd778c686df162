"""How the registry view picks its reader, authenticates to a server and finds local artifacts."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from driftloop.models.registry_entries import sql_backend
from driftloop.models.registry_rest import RestView, auth_header
from driftloop.models.registry_sql import local_artifact


def test_sql_stores_are_read_directly_and_other_uris_are_not() -> None:
    assert sql_backend("sqlite:////srv/mlflow.db") == "sqlite"
    assert sql_backend("postgresql+psycopg2://u@h/db") == "postgresql"
    assert sql_backend("mysql://u@h/db") is None
    assert sql_backend("http://127.0.0.1:5000") is None
    assert sql_backend("/srv/mlruns") is None


def test_the_token_wins_over_user_and_password_as_in_mlflows_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key in ("MLFLOW_TRACKING_TOKEN", "MLFLOW_TRACKING_USERNAME", "MLFLOW_TRACKING_PASSWORD"):
        monkeypatch.delenv(key, raising=False)
    assert auth_header() is None
    basic = "Basic " + base64.b64encode(b"alice:pw").decode()
    assert RestView("https://alice:pw@mlflow.example:8443/x/").auth == basic
    assert RestView("https://alice:pw@mlflow.example:8443/x/").base == (
        "https://mlflow.example:8443/x"
    )
    monkeypatch.setenv("MLFLOW_TRACKING_USERNAME", "bob")
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "pw2")
    assert auth_header("alice", "pw") == "Basic " + base64.b64encode(b"bob:pw2").decode()
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", "t0k")
    assert auth_header("alice", "pw") == "Bearer t0k"


def test_artifacts_on_a_local_disk_are_files_and_others_are_not(tmp_path: Path) -> None:
    root = tmp_path / "a b" / "artifacts"
    assert local_artifact(root.as_uri(), "driftloop/version-1.json") == (
        root / "driftloop" / "version-1.json"
    )
    assert local_artifact(str(root), "x.json") == root / "x.json"
    assert local_artifact("mlflow-artifacts:/1/abc/artifacts", "x.json") is None
    assert local_artifact("s3://bucket/1/abc/artifacts", "x.json") is None
