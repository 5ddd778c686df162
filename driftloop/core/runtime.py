"""Process environment for the stack, set before Prefect, MLflow or TensorFlow is imported."""

from __future__ import annotations

import logging
import os
import sys

from driftloop.core.config import Config
from driftloop.core.errors import DriftloopError
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


def setup_logging(verbose: bool = False) -> None:
    """Human-readable logs on stderr; stdout stays free for results."""
    _show_tracebacks[0] = verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


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
