"""Task calls whose arguments Prefect resolves but does not walk into.

By default a task call makes Prefect visit every element of every argument (dataclass
fields, dict and list items), twice: once to find upstream futures and states for the task
run's inputs, once to resolve them. A Champion (its reference profile and error sample) holds
~27,000 elements, which cost about 0.1 s per visit, 10 visits per batch. The flows pass
plain values, never futures nested inside them, so `lean` wraps each argument that is an
object (a dataclass, a config, a data frame...) in Prefect's `opaque`: it is still resolved and
still linked to the task run that returned it (the dependency arrows stay), but its contents
are not visited. Plain dicts, lists, tuples and sets (records, metrics, tags: small) are
visited as before, so a value nested in them keeps its arrow too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Task
from prefect.utilities.annotations import opaque

from driftloop.core.killpoints import checkpoint

P = ParamSpec("P")
R = TypeVar("R")


_VISITED = (dict, list, tuple, set)


def _wrap(value: Any) -> Any:
    return value if isinstance(value, _VISITED) else opaque(value)


def lean(t: Task[P, R]) -> Callable[P, R]:
    """The task as a function whose arguments Prefect resolves without visiting their contents."""

    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        checkpoint(f"task:{t.name}")
        run: Any = t
        return run(*(_wrap(a) for a in args), **{k: _wrap(v) for k, v in kwargs.items()})

    call.__name__ = call.__qualname__ = t.name
    call.__doc__ = t.description
    return call
