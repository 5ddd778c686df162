"""The project's exceptions: each message names what is wrong and how to fix it."""

from __future__ import annotations


class DriftloopError(Exception):
    """Base class of every error driftloop raises on purpose."""


class ConfigError(DriftloopError):
    """The configuration is missing, unreadable, or has an invalid key."""


class IngestError(DriftloopError):
    """A batch file cannot be read or does not belong in the landing zone."""


class SchemaError(IngestError):
    """A batch does not match the model's feature schema."""


class RegistryError(DriftloopError):
    """The MLflow registry does not hold what driftloop needs (for example no champion yet)."""


class TrackingUnreachable(RegistryError):
    """The MLflow tracking server does not answer (down, or a wrong URL)."""


class ChampionMoved(RegistryError):
    """The champion alias moved while a challenger was being made (compare-and-set failed)."""


class TrainingError(DriftloopError):
    """Training or fine-tuning cannot run on the data given."""


class ZoneBusy(IngestError):
    """Another driftloop run holds the landing zone's lock; this one processed nothing."""


class UsageError(DriftloopError):
    """The command line asks for something contradictory or incomplete."""
