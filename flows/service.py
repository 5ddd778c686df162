"""Deployments of the flows, and `driftloop serve`: monitor on a schedule, retrain on demand.

Both deployments are named after the registered model, so one Prefect server can run several
models: `monitor/<model>` (on `[prefect] monitor_cron` or `monitor_interval_seconds`) and
`retrain/<model>` (parameters `force`, `from_scratch`, `batch_sha256`, `trigger`; started by
hand with `prefect deployment run`, or by the drift trigger of flows.events).
"""

from __future__ import annotations

import datetime
import os
from typing import Any, cast

from prefect import serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment

from driftloop.core.config import Config
from driftloop.core.errors import ConfigError, DriftloopError
from driftloop.flows.events import drift_trigger
from driftloop.flows.monitor import monitor
from driftloop.flows.retrain import retrain
from driftloop.flows.slots import ensure_retrain_limit

TAGS = ["driftloop"]


def schedule_of(cfg: Config) -> dict[str, Any]:
    """The monitor deployment's schedule arguments (none: it runs only when triggered)."""
    p = cfg.prefect
    if p.monitor_cron:
        return {"cron": p.monitor_cron}
    if p.monitor_interval_seconds:
        return {"interval": datetime.timedelta(seconds=p.monitor_interval_seconds)}
    return {}


def run_command(flow: str, cfg: Config, **params: Any) -> str:
    """The `prefect deployment run` command that starts one of the model's deployments."""
    args = "".join(
        f" --param {k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in params.items()
    )
    return f"prefect deployment run '{flow}/{cfg.model.name}'{args}"


def build_deployments(
    cfg: Config, config_path: str | None, **options: Any
) -> list[RunnerDeployment]:
    """The monitor and retrain deployments of the configured model (options: to_deployment's)."""
    name = cfg.model.name
    params = {"config_path": config_path}
    try:
        deployments: list[Any] = [  # to_deployment is sync here; its type also allows a coroutine
            monitor.to_deployment(
                name=name,
                parameters=params,
                tags=TAGS,
                description=f"Process every batch waiting for {name}.",
                # One monitor run at a time: a run due while another still works is cancelled
                # (the next one picks up whatever is still waiting).
                concurrency_limit=ConcurrencyLimitConfig(
                    limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
                ),
                **schedule_of(cfg),
                **options,
            ),
            retrain.to_deployment(
                name=name,
                parameters=params,
                tags=TAGS,
                description=f"Retrain {name}: by hand, or on each drift event.",
                triggers=[drift_trigger(name)],
                **options,
            ),
        ]
        return cast(list[RunnerDeployment], deployments)
    except ValueError as err:
        raise ConfigError(f"[prefect] monitor_cron {cfg.prefect.monitor_cron!r}: {err}") from None


def serve_model(cfg: Config, config_path: str | None, limit: int | None = None) -> None:
    """Create the retrain limit if missing, then serve both deployments until interrupted."""
    if not (cfg.prefect.api_url or os.environ.get("PREFECT_API_URL")):
        raise DriftloopError(
            "driftloop serve needs a Prefect server: set [prefect] api_url (or "
            "DRIFTLOOP_PREFECT__API_URL / PREFECT_API_URL), see deploy/README.md"
        )
    ensure_retrain_limit(cfg.model.name)
    serve(
        *build_deployments(cfg, config_path),
        limit=limit,
        query_seconds=cfg.prefect.poll_seconds,
        print_starting_message=False,
    )


def deploy_to_pool(
    cfg: Config, config_path: str | None, pool: str, image: str | None = None
) -> list[str]:
    """Register both deployments in a work pool (run by `prefect worker start --pool POOL`).

    The flows are found by module path (driftloop.flows.monitor.monitor), so any worker whose Python
    has driftloop installed (the deploy/Dockerfile image, for Docker and Kubernetes pools)
    runs them. Returns the deployment ids.
    """
    from prefect.client.orchestration import get_client
    from prefect.deployments.runner import EntrypointType
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            raise DriftloopError(
                f"no work pool {pool!r} on the Prefect server; create it first, for example "
                f"`prefect work-pool create {pool} --type process` (or --type docker / "
                "kubernetes, see deploy/README.md)"
            ) from None
    ensure_retrain_limit(cfg.model.name)
    deployments = build_deployments(
        cfg, config_path, entrypoint_type=EntrypointType.MODULE_PATH, work_pool_name=pool
    )
    return [str(d.apply(work_pool_name=pool, image=image)) for d in deployments]
