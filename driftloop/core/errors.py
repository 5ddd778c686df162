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


class SystemFault(DriftloopError):
    """A fault of driftloop's own stores or machine, not of a batch: it counts no attempt.

    The run stops (non-zero exit, one line naming the fault and the fix) and every batch stays
    waiting as it was; see driftloop/core/faults.py for how failures are classed.
    """


class SlotBusy(SystemFault):
    """The model's retrain slot stayed held by a live holder for the whole wait."""


class RegistryError(SystemFault):
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
