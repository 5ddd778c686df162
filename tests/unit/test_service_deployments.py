"""The deployments `driftloop serve` registers, built from the config (no server needed)."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from driftloop.core.config import config_from_dict
from driftloop.core.errors import ConfigError
from driftloop.flows.events import DRIFT_EVENT
from driftloop.flows.service import build_deployments, run_command

BASE = {"model": {"target": "y", "name": "churn"}, "features": {"numeric": ["a"]}}


def test_monitor_on_cron_and_retrain_on_drift_events() -> None:
    cfg = config_from_dict({**BASE, "prefect": {"monitor_cron": "*/5 * * * *"}}, Path("c.toml"))
    monitor, retrain = build_deployments(cfg, "/srv/driftloop.toml")
    assert (monitor.flow_name, monitor.name) == ("monitor", "churn")
    assert (retrain.flow_name, retrain.name) == ("retrain", "churn")
    assert monitor.parameters == retrain.parameters == {"config_path": "/srv/driftloop.toml"}
    (schedule,) = monitor.schedules
    assert schedule.schedule.cron == "*/5 * * * *"
    assert monitor.concurrency_limit == 1 and not monitor.triggers
    assert not retrain.schedules
    (trigger,) = retrain.triggers
    assert trigger.expect == {DRIFT_EVENT}
    assert trigger.match.model_dump() == {
        "prefect.resource.id": "driftloop.model.churn",
        "driftloop.retrain": "true",
    }
    assert trigger.parameters == {
        "batch_sha256": "{{ event.payload.sha256 }}",
        "trigger": "drift-event",
    }


def test_interval_schedule_and_no_schedule() -> None:
    cfg = config_from_dict({**BASE, "prefect": {"monitor_interval_seconds": 90}}, Path("c.toml"))
    (schedule,) = build_deployments(cfg, None)[0].schedules
    assert schedule.schedule.interval == datetime.timedelta(seconds=90)
    assert not build_deployments(config_from_dict(BASE, Path("c.toml")), None)[0].schedules


def test_bad_cron_is_a_config_error() -> None:
    cfg = config_from_dict({**BASE, "prefect": {"monitor_cron": "every tuesday"}}, Path("c.toml"))
    with pytest.raises(ConfigError, match=r"\[prefect\] monitor_cron 'every tuesday'"):
        build_deployments(cfg, None)


def test_the_printed_command() -> None:
    cfg = config_from_dict(BASE, Path("c.toml"))
    assert run_command("retrain", cfg, force=True, from_scratch=False) == (
        "prefect deployment run 'retrain/churn' --param force=true --param from_scratch=false"
    )
