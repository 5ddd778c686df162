"""The named crash points of ingest (see driftloop/core/killpoints.py, where every layer's are)."""

from driftloop.core.killpoints import KILL_ENV, STEPS, checkpoint

__all__ = ["KILL_ENV", "STEPS", "checkpoint"]
