"""Progress on stderr for the `driftloop` command: one redrawn line on a terminal, few elsewhere.

On a terminal a passing state (epoch 7/25, batch 3/12) redraws one line with a carriage
return. When stderr is not a terminal (CI, a pipe, a test) passing states are dropped and each
step or lasting line is one plain line, so a run of 12 batches prints 12 lines, never hundreds.
"""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING, TextIO

from driftloop.core.progress import Progress, Silent, install

if TYPE_CHECKING:
    from driftloop.flows.early_server import EarlyServer

__all__ = ["Terminal", "embedded_server", "show_progress"]


class Terminal:
    """A progress sink writing to the stderr of the moment (`tty` None: ask the stream)."""

    def __init__(self, tty: bool | None = None, steps: bool = True) -> None:
        self.tty, self.steps, self._drawn = tty, steps, 0

    @property
    def stream(self) -> TextIO:
        """The stream written to: sys.stderr at the time of the call."""
        return sys.stderr

    def _is_tty(self) -> bool:
        if self.tty is not None:
            return self.tty
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _draw(self, text: str) -> None:
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns - 1
        except (OSError, ValueError, AttributeError):  # not a real terminal: a fixed width
            width = 99
        text = text[: max(20, width)]
        self.stream.write("\r" + text.ljust(self._drawn))
        self.stream.flush()
        self._drawn = len(text)

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r" + " " * self._drawn + "\r")
            self._drawn = 0

    def update(self, text: str) -> None:
        """Redraw the line on a terminal; nothing elsewhere."""
        if self._is_tty():
            self._draw(text)

    def step(self, text: str) -> None:
        """Redraw the line on a terminal; one plain line elsewhere (unless steps are off)."""
        if not self.steps:
            return
        if self._is_tty():
            self._draw(text)
        else:
            self.line(text)

    def line(self, text: str) -> None:
        """A lasting line (over a redrawn one on a terminal)."""
        if self._is_tty():
            self._clear()
        self.stream.write(text + "\n")
        self.stream.flush()


def show_progress(quiet: bool, steps: bool = True) -> Progress:
    """Install the command's sink: Terminal, or Silent with `-q`; return the one replaced."""
    return install(Silent() if quiet else Terminal(steps=steps))


def embedded_server(sink: Progress) -> float | None:
    """Have the embedded Prefect server ready now, telling `sink`; its start in s (None: not used).

    Without PREFECT_API_URL the first flow run starts a temporary server (5 to 25 s) and says
    nothing meanwhile; started here, the wait is announced. When `run` started it early
    (flows/early_server.py) this only waits for it, and the figure counts from that start.
    """
    from driftloop.flows.embedded import adopt_early_server, pin_embedded_port

    early = adopt_early_server()
    if early is not None:
        return _wait_early(sink, early)
    server = pin_embedded_port()
    if server is None or server.running:
        return None
    start = time.perf_counter()
    sink.update(WAIT_LINE)
    server.start()
    took = time.perf_counter() - start
    sink.line(f"embedded Prefect server ready in {took:.1f} s at {server.address}")
    return took


WAIT_LINE = "starting the embedded Prefect server (~10 s; PREFECT_API_URL names yours)..."


def _wait_early(sink: Progress, early: EarlyServer) -> float | None:
    """Wait for the server started early (announced if it is not ready yet)."""
    from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS

    from driftloop.flows.early_server import wait_ready
    from driftloop.flows.embedded import adopt_early_server

    if early.ready:
        return None
    sink.update(WAIT_LINE)
    took = wait_ready(early, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value())
    adopt_early_server()  # PREFECT_API_URL follows the server if a retry moved its port
    sink.line(f"embedded Prefect server ready in {took:.1f} s at {early.address}")
    return took
