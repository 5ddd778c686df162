"""How much the stack says on stderr: quiet by default, everything with `-v`, errors with `-q`.

driftloop's own output (the table, the summary, progress) carries the story. Prefect's
per-run chatter ("Finished in state Completed()"), MLflow's repeated notices ("Created version
'3' of model ...", input-example and signature hints) and library warnings everyone gets are
held back unless `-v`. Warnings and errors still show: a quarantined or failed batch, a system
fault. Logs still reach Prefect's API (the UI's run logs) at INFO: only the console is quieter.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import logging
import os
import sys
import warnings
from collections.abc import Sequence
from enum import IntEnum
from types import ModuleType

__all__ = ["QUIET_WARNINGS", "Verbosity", "console_level", "hold_engine_chatter", "quiet_stack"]


class Verbosity(IntEnum):
    """How much goes to the console: `-q`, the default, `-v`."""

    QUIET = 0
    NORMAL = 1
    VERBOSE = 2


QUIET_WARNINGS = (
    "Setuptools is replacing distutils",
    "An input example was not provided",
    "Model logged without a signature",
    "Hint: Inferred schema contains integer column",
)
"""Starts of warning messages every run would print; shown only with `-v`."""

MLFLOW_LOGGERS = ("mlflow", "alembic", "huey", "sqlalchemy.engine")
"""The loggers MLflow gives a handler of its own when it is imported."""


ENGINE_MODULES = frozenset({"task_engine", "flow_engine"})
"""Prefect's engines: their records ("Task run failed with exception", "Finished in state
Failed(...)") repeat what driftloop's own line says; the run logs in Prefect's UI keep them."""

_CONSOLES = ("StderrHandler", "PrefectConsoleHandler")
_hold = [True]


class EngineChatter(logging.Filter):
    """Keeps Prefect's engine records off a console handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a record of Prefect's task or flow engine."""
        return not (record.name.startswith("prefect") and record.module in ENGINE_MODULES)


def hold_engine_chatter(verbosity: Verbosity | None = None) -> None:
    """Prefect's engine records off the console handlers of the root logger, unless `-v`.

    Called when logging is set up and again once Prefect has installed its console handler
    (a flow run's start): `verbosity` None keeps the one set before.
    """
    if verbosity is not None:
        _hold[0] = verbosity < Verbosity.VERBOSE
    for handler in logging.getLogger().handlers:
        if type(handler).__name__ not in _CONSOLES:
            continue
        handler.filters = [f for f in handler.filters if not isinstance(f, EngineChatter)]
        if _hold[0]:
            handler.addFilter(EngineChatter())


def console_level(verbosity: Verbosity) -> int:
    """The lowest level the console shows: ERROR (-q), WARNING (default), DEBUG (-v)."""
    return {Verbosity.QUIET: logging.ERROR, Verbosity.NORMAL: logging.WARNING}.get(
        verbosity, logging.DEBUG
    )


def quiet_stack(verbosity: Verbosity) -> None:
    """Hold back MLflow's notices and the usual warnings unless `-v` (MLflow now or later)."""
    if verbosity >= Verbosity.VERBOSE:
        return
    level = logging.getLevelName(max(console_level(verbosity), logging.WARNING))
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", str(level))
    for start in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=f"(?s).*{start}")
    if "mlflow" in sys.modules:
        route_mlflow()
    elif not any(isinstance(f, _AfterMlflow) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterMlflow())


def route_mlflow() -> None:
    """MLflow's printed notices off; its log records through the console handler like others.

    Core imports no MLflow: this adjusts the loaded one (found in sys.modules) only.
    """
    logging_utils = sys.modules.get("mlflow.utils.logging_utils")
    stream = getattr(logging_utils, "MLFLOW_LOGGING_STREAM", None)
    if stream is not None:  # eprint(): "Successfully registered model", "Created version ..."
        # Not disable_logging(): MLflow's own contexts switch that back on when they exit.
        stream.write = _dropped
    for name in MLFLOW_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True


def _dropped(text: str) -> int:
    """A stream's write that keeps nothing."""
    return len(text)


class _AfterMlflow(importlib.abc.MetaPathFinder):
    """Runs `route_mlflow` once, right after `import mlflow` has configured MLflow's loggers."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        """The real spec of `mlflow`, its loader wrapped to route MLflow's output after loading."""
        if fullname != "mlflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        loader = spec.loader if spec else None
        if spec is None or loader is None or not hasattr(loader, "exec_module"):
            return spec
        run = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            run(module)
            route_mlflow()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec
