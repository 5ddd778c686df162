"""Flow runs a batch starts make no heartbeat thread, unless the user set heartbeats.

Prefect's flow engine reads `flows.heartbeat_frequency` from the current settings when a run
starts (None: no heartbeat thread, nothing to wait for at its end).
"""

from __future__ import annotations

import pytest
from prefect.context import SettingsContext, get_settings_context
from prefect.settings import Settings, get_current_settings

from driftloop.flows.heartbeats import without_heartbeats


def _frequency() -> int | None:
    return get_current_settings().flows.heartbeat_frequency


def test_inside_no_heartbeats_and_outside_prefects_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", raising=False)
    with SettingsContext(profile=get_settings_context().profile, settings=Settings()):
        assert _frequency() == 180  # Prefect's default
        with without_heartbeats():
            assert _frequency() is None
            with without_heartbeats():  # nested (a batch's subflow inside monitor): still none
                assert _frequency() is None
        with without_heartbeats(when=False):
            assert _frequency() == 180
        assert _frequency() == 180


def test_heartbeats_the_user_set_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "45")
    profile = get_settings_context().profile
    with SettingsContext(profile=profile, settings=Settings()), without_heartbeats():
        assert _frequency() == 45
