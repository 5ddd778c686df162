"""One redaction for every URL setting: user info and secret query values masked."""

from __future__ import annotations

import logging

import pytest

from driftloop.core.config import config_from_dict
from driftloop.core.errors import ConfigError
from driftloop.core.redact import redact
from driftloop.core.runtime import install_record_factory


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("mysql://bob:hunter2@db/x", "mysql://***@db/x"),
        ("http://alice:s3cret@127.0.0.1:5999", "http://***@127.0.0.1:5999"),
        (
            "see postgresql+psycopg://u:p%40ss@h:5432/db now",
            "see postgresql+psycopg://***@h:5432/db now",
        ),
        ("s3://AKIAKEY@bucket/zone", "s3://***@bucket/zone"),
        ("https://h/api?token=abc123&x=1", "https://h/api?token=***&x=1"),
        ("sqlite:////srv/x.db", "sqlite:////srv/x.db"),
        ("http://127.0.0.1:5000/#/experiments/1", "http://127.0.0.1:5000/#/experiments/1"),
        ("user@example.org wrote", "user@example.org wrote"),
    ],
)
def test_redact_masks_user_info_and_secret_query_values_only(text: str, shown: str) -> None:
    assert redact(text) == shown


def test_config_errors_show_urls_without_their_passwords() -> None:
    base = {"model": {"name": "m", "target": "y"}, "features": {"numeric": ["a"]}}
    with pytest.raises(ConfigError) as err:
        config_from_dict({**base, "ingest": {"ledger_url": "mysql://bob:hunter2@db/x"}})
    assert "[ingest] ledger_url = 'mysql://***@db/x' is not a sqlite:///" in str(err.value)
    assert "hunter2" not in str(err.value)
    with pytest.raises(ConfigError) as err:
        config_from_dict(
            {**base, "tracking": {"tracking_uri": "http://alice:s3cret@127.0.0.1:5999"}}
        )
    assert "tracking_uri = 'http://***@127.0.0.1:5999' is not a database" in str(err.value)
    assert "s3cret" not in str(err.value)


def test_log_records_are_masked_whoever_logs_them(caplog: pytest.LogCaptureFixture) -> None:
    install_record_factory()
    with caplog.at_level(logging.INFO):
        logging.getLogger("some.library").info("api at %s", "http://carol:pw7@h:4200/api")
    assert caplog.messages == ["api at http://***@h:4200/api"]
