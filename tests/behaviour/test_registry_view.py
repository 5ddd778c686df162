"""The registry view reads a SQLite store as MlflowClient does, and `status` as it read before."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from driftloop.app.status import collect_status, format_status
from driftloop.core.errors import TrackingUnreachable
from driftloop.models.registry_client import ClientView
from driftloop.models.registry_sql import SqlView, local_artifact
from driftloop.models.registry_view import open_view
from driftloop.models.version_record import record_path
from tests.integration.servers import free_port
from tests.registry_check import (
    assert_view_matches_client,
    bootstrap_and_promote,
    registry_config,
    status_through_mlflow,
)


def test_the_view_of_a_sqlite_store_answers_as_mlflow_and_status_reads_unchanged(
    tmp_path: Path,
) -> None:
    cfg = registry_config(tmp_path)
    client = bootstrap_and_promote(cfg)
    view = open_view(cfg.mlflow_uri)
    assert isinstance(view, SqlView)
    assert_view_matches_client(view, client)
    assert_view_matches_client(ClientView(cfg.mlflow_uri), client)  # the other stores' reader
    info, before = collect_status(cfg), status_through_mlflow(cfg, client)
    assert json.dumps(info, default=str) == json.dumps(before, default=str)
    assert format_status(info) == format_status(before)
    assert info["champion"]["record"]["lineage"]["kind"] == "finetune"
    assert info["champion"]["record"]["replay"]["rows"] > 0

    # A version of an older release has no record file: both rebuild it from its tags.
    run = client.get_run(info["champion"]["run_id"])
    record = local_artifact(run.info.artifact_uri, record_path("2"))
    assert record is not None and record.is_file()
    record.unlink()
    info, before = collect_status(cfg), status_through_mlflow(cfg, client)
    assert json.dumps(info, default=str) == json.dumps(before, default=str)
    assert info["champion"]["record"]["lineage"]["kind"] == "finetune"
    assert info["champion"]["record"]["replay"]["rows"] == 0


def test_a_sqlite_store_not_made_yet_holds_no_model_and_is_not_created(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    view = open_view(uri)
    assert view.model("m") is None and view.version("m", "1") is None
    assert view.run_metrics("0" * 32) == {} and view.run_artifact("0" * 32, "x.json") is None
    assert not (tmp_path / "mlflow.db").exists()


def test_a_tracking_server_that_does_not_answer_is_named_with_the_fix() -> None:
    uri = f"http://alice:s3cret@127.0.0.1:{free_port()}"
    with pytest.raises(TrackingUnreachable) as err:
        open_view(uri).model("m")
    assert str(err.value).startswith(
        f"cannot reach the MLflow tracking store at http://***@127.0.0.1:{uri.rsplit(':', 1)[1]}: "
    )
    assert str(err.value).endswith(
        "Start the tracking server, or fix [tracking] tracking_uri in driftloop.toml."
    )
    assert "s3cret" not in str(err.value)
