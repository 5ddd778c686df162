"""Prefect's flow-run heartbeats, made only where something can watch them.

A flow run's heartbeat thread tells the Prefect server the run is alive, so that an automation
can mark it Crashed when its process dies. At the end of every flow run Prefect waits for that
thread, which sleeps in 1-second steps: up to a second per flow run, about 0.5 s on average,
whatever the run did. So:

- a batch is a task run of the `monitor` run (flows/process_batch.py), not a flow run, so it
  has no heartbeat of its own; the `monitor` run's heartbeats stop when its process dies (and
  a batch a crash interrupted is finished by the ledger's recovery, not by Prefect);
- with the embedded server (no PREFECT_API_URL, or the one `run` started early and named
  there, flows/early_server.py) no flow run makes any: that server lives and
  dies with the process, so nothing is there to notice a missing heartbeat.

Each is a default: PREFECT_FLOWS_HEARTBEAT_FREQUENCY, when set, wins everywhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import prefect.context
from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, Settings, get_current_settings

from driftloop.flows.early_server import early_server

# (settings, the same without heartbeats): deriving them re-reads every settings source, about
# 0.1-0.3 s, so it is done once per base settings (the pair keeps the base alive).
_DERIVED: list[tuple[Settings, Settings]] = []


@contextmanager
def without_heartbeats(when: bool = True) -> Iterator[None]:
    """Flow runs started inside make no heartbeat thread (if `when` and the user set none)."""
    if not when:
        yield
        return
    current = prefect.context.get_settings_context()
    with prefect.context.SettingsContext(
        profile=current.profile, settings=_quiet(current.settings)
    ):
        yield


def _quiet(base: Settings) -> Settings:
    """`base` without flow-run heartbeats, unless the user set them (derived once, then reused)."""
    if base.flows.heartbeat_frequency is None:  # already off (embedded, or set so)
        return base
    for known, derived in _DERIVED:
        if known is base or known == base:  # each flow run enters a copy of the same settings
            return derived
    derived = base.copy_with_update(set_defaults={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None})
    _DERIVED[:] = [(base, derived)]
    return derived


def embedded() -> bool:
    """Whether flow runs go to the embedded server of this process (Prefect's, or started early)."""
    url = get_current_settings().api.url
    server = early_server()
    return not url or (server is not None and url == server.api_url)
