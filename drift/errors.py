"""Exceptions raised by the drift package, each carrying an actionable message."""

from __future__ import annotations

__all__ = ["BatchError", "DriftError", "ProfileError", "ReportError"]


class DriftError(Exception):
    """Base class for every error raised by the drift package."""


class ProfileError(DriftError):
    """A reference profile cannot be built, read or used as given."""


class BatchError(DriftError):
    """A batch of new data cannot be compared with the reference profile."""


class ReportError(DriftError):
    """A serialised drift report is malformed or cannot be read."""
