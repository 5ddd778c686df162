"""driftloop: drift-aware continual retraining of a Keras model, tracked in MLflow, run by Prefect.

The top-level package holds what every stage shares: the validated configuration, the
project's exceptions, batch ingest and the command line. The stages live in the sibling
packages ``drift`` (statistics), ``models`` (Keras and the MLflow registry) and ``flows``
(Prefect orchestration).
"""

from driftloop.errors import ConfigError, DriftloopError, IngestError, SchemaError

__all__ = ["ConfigError", "DriftloopError", "IngestError", "SchemaError", "__version__"]

__version__ = "0.1.0"
