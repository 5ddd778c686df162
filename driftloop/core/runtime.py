"""Process environment for the stack, set before Prefect, MLflow or TensorFlow is imported."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

from driftloop.core.config import Config
from driftloop.core.errors import DriftloopError
from driftloop.core.quiet import Verbosity, console_level, hold_engine_chatter, quiet_stack
from driftloop.core.redact import redact
from driftloop.core.stores import check_stores

QUIET_LOGGERS = ("alembic", "mlflow.store", "mlflow.tracking", "urllib3", "httpx", "absl", "h5py")


def prepare_environment(cfg: Config) -> None:
    """Check the stores, point Prefect at its API (or the embedded store), quiet the stack."""
    check_stores(cfg)
    if cfg.prefect.api_url:
        os.environ["PREFECT_API_URL"] = cfg.prefect.api_url
    elif not os.environ.get("PREFECT_API_URL"):
        os.environ.setdefault("PREFECT_HOME", str(cfg.prefect_home))
        # Made now: Prefect warns at import when it cannot make its home (a new work folder).
        Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    stack_defaults()


def stack_defaults() -> None:
    """Offline, quiet defaults for Prefect, MLflow and TensorFlow (each left alone if set)."""
    install_record_factory()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # The embedded server takes 13 to 24 s to start on 2 cores; Prefect's default waits 20 s.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_WHEN_MISSING_FLOW", "ignore")
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "driftloop")
    keras_defaults()
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    # With a tracking server MLflow prints "View run at URL" lines on stdout, which would
    # corrupt `driftloop run --json`; the run links are in the logs and records instead.
    os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
    # MLflow retries a request to a down server 7 times over about 4 minutes by default;
    # driftloop's own task retries (with backoff) sit on top, so keep MLflow's short.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "3")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")


def keras_defaults() -> None:
    """Keras on TensorFlow, with TensorFlow's start-up chatter off (each left alone if set)."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def setup_logging(verbosity: Verbosity = Verbosity.NORMAL) -> None:
    """Logs on stderr (stdout stays free for results), as loud as `verbosity` says.

    The console shows warnings and errors by default (errors with `-q`, debug logs with `-v`);
    the loggers stay at INFO so Prefect's API still gets the runs' logs for its UI.
    """
    _show_tracebacks[0] = verbosity >= Verbosity.VERBOSE
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, StderrHandler)]
    if not root.handlers:  # a host that set up logging (pytest, an application) keeps its own
        ours = [StderrHandler()]
        ours[0].setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S")
        )
        root.addHandler(ours[0])
    if ours:
        root.setLevel(logging.DEBUG if verbosity >= Verbosity.VERBOSE else logging.INFO)
        ours[0].setLevel(console_level(verbosity))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet_stack(verbosity)
    hold_engine_chatter(verbosity)


class StderrHandler(logging.StreamHandler[Any]):
    """The console handler: writes to the stderr of the moment (a redirected one too)."""

    @property
    def stream(self) -> Any:
        """sys.stderr at the time of the write."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        """StreamHandler sets it on creation; the live sys.stderr is used instead."""


_base_factory = logging.getLogRecordFactory()
_show_tracebacks = [False]


def _record_factory(*args: object, **kwargs: object) -> logging.LogRecord:
    """Every log record with URL secrets masked; our own errors without a traceback (unless -v)."""
    record = _base_factory(*args, **kwargs)
    exc = record.exc_info[1] if record.exc_info else None
    if isinstance(exc, DriftloopError) and not _show_tracebacks[0]:
        record.exc_info, record.exc_text = None, None
    try:
        message = record.getMessage()
    except Exception:  # a record whose args do not fit its format: leave it to logging
        return record
    safe = redact(message)
    if safe != message:
        record.msg, record.args = safe, None
    return record


def install_record_factory() -> None:
    """Mask secrets in every log record this process makes (driftloop's, Prefect's, MLflow's)."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
