"""Optional: the drift tests of large batches, spread over a Dask cluster by Prefect.

With `[prefect] task_runner = "dask"`, a batch of at least `dask_min_rows` rows has its drift
check run as a `drift-on-dask` flow on Prefect's DaskTaskRunner (prefect-dask, the `dask`
extra, imported only then), with each feature's test submitted as its own Prefect task, so the
cluster's workers share them. The correction across features happens once, in that flow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from prefect import flow, tags, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TagsContext
from prefect.futures import PrefectFuture

from driftloop.core.config import Config
from driftloop.core.errors import ConfigError
from driftloop.flows.publish import run_tags

INSTALL = "pip install 'driftloop[dask]'"
R = TypeVar("R")


def dask_task_runner(cfg: Config) -> Any:
    """Prefect's DaskTaskRunner for `[prefect] dask_address` (empty: a local cluster)."""
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError:
        raise ConfigError(
            f'[prefect] task_runner = "dask" needs the prefect-dask package: {INSTALL}'
        ) from None
    if cfg.prefect.dask_address:
        return DaskTaskRunner(address=cfg.prefect.dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1})


@task(name="feature-drift", cache_policy=NO_CACHE)
def feature_task(fn: Callable[..., Any], *args: Any) -> Any:
    """One feature's drift test, run wherever the flow's task runner puts it."""
    return fn(*args)


def on_dask(cfg: Config, check: Callable[[], R]) -> R:
    """`check()` inside a `drift-on-dask` flow run on the Dask task runner: its result."""

    @flow(name="drift-on-dask", task_runner=dask_task_runner(cfg))
    def drift_on_dask() -> R:
        with TagsContext(current_tags=set()):  # untagged feature tasks: flows/monitor.py says why
            return check()

    with tags(*run_tags(cfg.model.name)):  # the flow run carries the model's tags
        return drift_on_dask()


class TaskSubmitter:
    """drift.detect_drift's executor: each feature's test becomes a submitted Prefect task."""

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> PrefectFuture[Any]:
        """Submit one feature's test to the current flow's task runner."""
        return feature_task.submit(fn, *args)


def drift_executor(cfg: Config, rows: int) -> TaskSubmitter | None:
    """The executor for a batch's drift tests: Prefect tasks when Dask is on and rows are many."""
    if cfg.prefect.task_runner == "dask" and rows >= cfg.prefect.dask_min_rows:
        return TaskSubmitter()
    return None
