"""driftloop: drift-aware continual retraining of a Keras model, tracked in MLflow, run by Prefect.

One installed package in layers that point one way (docs/architecture.md):
``driftloop.core`` (config, errors, typed records) <- ``driftloop.ingest`` (the landing zone
and the ledger) <- ``driftloop.models`` (Keras and the MLflow registry) <- ``driftloop.flows``
(Prefect orchestration) <- ``driftloop.app`` (the command line, the demo). ``driftloop.drift``
(the statistics) is pure: it imports nothing of driftloop and is used from models up.

``driftloop.compare(reference, batch)`` (``driftloop.app.compare``) is loaded on first use,
so ``import driftloop`` stays light.
"""

from driftloop.core.errors import ConfigError, DriftloopError, IngestError, SchemaError

__all__ = [
    "ConfigError",
    "DriftloopError",
    "IngestError",
    "SchemaError",
    "__version__",
    "compare",
]

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """``driftloop.compare`` on first use: the app layer loads only when it is asked for."""
    if name == "compare":
        import importlib

        return importlib.import_module("driftloop.app.compare").compare
    raise AttributeError(f"module 'driftloop' has no attribute {name!r}")
