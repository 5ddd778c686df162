"""Task calls through `flows.lean.lean`: Prefect resolves the arguments without walking into them.

A real flow on the embedded Prefect server; the argument is a list that counts how often it is
iterated, so the test sees whether Prefect walked into it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.runtime import flow_run

from driftloop.flows.lean import lean


class CountingList(list[int]):
    """A list that counts how often it is iterated."""

    def __init__(self, items: range) -> None:
        super().__init__(items)
        self.iterations = 0

    def __iter__(self) -> Any:
        self.iterations += 1
        return super().__iter__()


@dataclass
class Holder:
    items: CountingList = field(default_factory=lambda: CountingList(range(1000)))


@task(name="make", cache_policy=NO_CACHE)
def make() -> Holder:
    return Holder()


@task(name="use", cache_policy=NO_CACHE)
def use(holder: Holder, extra: dict[str, int]) -> int:
    return len(holder.items) + extra["k"]


@flow(name="lean-check")
def lean_check() -> dict[str, Any]:
    holder = make()
    lean_result = lean(use)(holder, {"k": 1})
    lean_walks = holder.items.iterations
    plain_result = use(holder, {"k": 1})
    return {
        "same_result": lean_result == plain_result == 1001,
        "lean_walks": lean_walks,
        "plain_walks": holder.items.iterations - lean_walks,
        "flow_run_id": str(flow_run.get_id()),
    }


def _task_runs(flow_run_id: str) -> dict[str, Any]:
    with get_client(sync_client=True) as client:
        for _ in range(60):  # task runs reach the server through events, a moment later
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
            if len(runs) == 3:
                return {r.name: r for r in runs}
            time.sleep(0.5)
    raise AssertionError(f"expected 3 task runs, found {len(runs)}")


def test_lean_task_call_skips_the_walk_and_keeps_the_dependency() -> None:
    out = lean_check()
    assert out["same_result"]
    assert out["lean_walks"] == 0  # the opaque argument was not iterated
    assert out["plain_walks"] > 0  # a plain call walks into it: the count above means something
    runs = _task_runs(out["flow_run_id"])
    (made,) = [r for n, r in runs.items() if n.startswith("make")]
    used = sorted((r for n, r in runs.items() if n.startswith("use")), key=lambda r: r.start_time)
    for run in used:  # both calls keep the arrow from the task run that returned the argument
        assert [i.id for i in run.task_inputs["holder"]] == [made.id]
