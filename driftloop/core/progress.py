"""Where progress goes: the process's one progress sink (silent unless the command installs one).

Library code (model training, the monitor flow) reports through `current()`; it never prints.
The `driftloop` command installs a terminal sink (`driftloop/app/progress.py`) that redraws one
line on a terminal and prints only lasting lines elsewhere; `-q` keeps the silent one.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["Progress", "Silent", "current", "install"]


class Progress(Protocol):
    """A progress sink: passing states, steps, and lines that stay."""

    def update(self, text: str) -> None:
        """A passing state (epoch 7/25): a terminal redraws it in place; elsewhere it is dropped."""

    def step(self, text: str) -> None:
        """One step of a few (batch 3/12): redrawn on a terminal, one plain line elsewhere."""

    def line(self, text: str) -> None:
        """A line that stays (training done: 17 epochs)."""


class Silent:
    """The sink that shows nothing: library use and `-q`."""

    def update(self, text: str) -> None:
        """Drop a passing state."""

    def step(self, text: str) -> None:
        """Drop a step."""

    def line(self, text: str) -> None:
        """Drop a line."""


_sink: list[Progress] = [Silent()]


def install(sink: Progress) -> Progress:
    """Make `sink` the process's progress sink; return the one it replaces."""
    old, _sink[0] = _sink[0], sink
    return old


def current() -> Progress:
    """The process's progress sink."""
    return _sink[0]
