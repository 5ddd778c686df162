"""driftloop: drift-aware continual retraining of a Keras model, tracked in MLflow, run by Prefect.

One installed package in layers that point one way (docs/architecture.md):
``driftloop.core`` (config, errors, typed records) <- ``driftloop.ingest`` (the landing zone
and the ledger) <- ``driftloop.models`` (Keras and the MLflow registry) <- ``driftloop.flows``
(Prefect orchestration) <- ``driftloop.app`` (the command line, the demo). ``driftloop.drift``
(the statistics) is pure: it imports nothing of driftloop and is used from models up.
"""

from driftloop.core.errors import ConfigError, DriftloopError, IngestError, SchemaError

__all__ = ["ConfigError", "DriftloopError", "IngestError", "SchemaError", "__version__"]

__version__ = "0.1.0"
