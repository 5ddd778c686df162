"""Process-wide test environment, set before any test imports Prefect, MLflow or TensorFlow."""

import os
import tempfile

# Set before Prefect, MLflow or TensorFlow is imported by any test module.
_PREFECT_HOME = tempfile.mkdtemp(prefix="driftloop-prefect-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ.pop("PREFECT_API_URL", None)
os.environ.pop("DRIFTLOOP_CONFIG", None)
from driftloop.core.runtime import stack_defaults  # noqa: E402

stack_defaults()
# Flow logs stay out of test output (and off stderr after pytest closes its capture).
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# Prefect configures logging with dictConfig on first import, which closes every handler that
# exists by then; absl's handler (created when TensorFlow loads) closes the stream it was
# given if that is no longer sys.stderr, which would be pytest's capture. Let Prefect go first.
import prefect.main  # noqa: E402, F401  (runs Prefect's logging set-up now)


def pytest_sessionfinish(session: object, exitstatus: int) -> None:
    """Remove this process's temporary Prefect home."""
    import shutil

    shutil.rmtree(_PREFECT_HOME, ignore_errors=True)
