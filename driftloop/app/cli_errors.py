"""How the `driftloop` command answers a mistake: one line naming the problem and the fix.

The traceback is printed only with ``-v`` (before or after the verb).
"""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

from driftloop.core.errors import DriftloopError, IngestError, UsageError
from driftloop.core.quiet import Verbosity

VERBOSE_HELP = "debug logs, and the traceback of an error, on stderr"
QUIET_HELP = "only errors and the final result: no progress, no warnings"
RUN_CODES = """exit status:
  0  every batch was processed, or none was waiting
  1  some batch failed to process (it stays waiting, or went to quarantine after
     [ingest] max_attempts), or an unexpected error (-v shows its traceback)
  2  a usage, config or state error (for example no champion yet); no batch was touched
  3  some batch went to quarantine (bad data, unknown classes, or a duplicate); fix the
     cause, then `driftloop requeue NAME` or `driftloop requeue --quarantined`; or some
     batch's late labels hold classes the champion does not know (kept, not tested)
1 wins over 3 when both happened."""

__all__ = [
    "QUIET_HELP",
    "RUN_CODES",
    "VERBOSE_HELP",
    "UsageError",
    "data_file",
    "error_line",
    "verbosity_of",
    "version_line",
]


def verbosity_of(verbose: bool, quiet: bool) -> Verbosity:
    """The console's verbosity from -v and -q (given before or after the verb)."""
    return Verbosity.VERBOSE if verbose else Verbosity.QUIET if quiet else Verbosity.NORMAL


def version_line() -> str:
    """ "driftloop X.Y.Z" of the installed distribution (the package's own when not installed)."""
    try:
        return f"driftloop {metadata.version('driftloop')}"
    except metadata.PackageNotFoundError:
        from driftloop import __version__

        return f"driftloop {__version__} (not installed)"


def data_file(text: str, what: str) -> Path:
    """The --data path, or an IngestError naming it and the fix when it is not a file."""
    path = Path(text)
    if path.is_file():
        return path
    problem = "is a folder, not a file" if path.is_dir() else "no such file"
    raise IngestError(
        f"--data {text}: {problem} (looked in {path.resolve().parent}); give the path of {what}."
    )


def _drift_error(err: BaseException) -> bool:
    """Whether err is the drift package's: only possible once that package was imported."""
    errors = sys.modules.get("driftloop.drift.errors")  # not imported here: it loads scipy
    return errors is not None and isinstance(err, errors.DriftError)


def error_line(err: BaseException) -> tuple[int, str]:
    """The exit status and the one line that answers an error."""
    if isinstance(err, DriftloopError) or _drift_error(err):
        return 2, str(err)
    if isinstance(err, OSError) and err.filename:
        return 2, (
            f"{err.filename}: {err.strerror or type(err).__name__}; check the path and its "
            "permissions."
        )
    return 1, (
        f"unexpected {type(err).__name__}: {str(err)[:300]} (run again with -v for the traceback)"
    )
