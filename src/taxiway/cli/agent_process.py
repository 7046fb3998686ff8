"""Runs an agent (a satellite, an edge) in the foreground until SIGTERM or SIGINT.

Called by ``taxiway satellite`` and ``taxiway edge`` once their settings are checked.
Logs go to stderr, one line per event. On either signal the agent's ``stop`` runs and the
command returns (exit 0); what the agent leaves running (instances, HAProxy) keeps running
by design. The previous signal handlers are put back, so tests can run a command in-process.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Protocol

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SIGNAL_POLL_SECONDS = 0.5
"""A bounded wait, so the signal handler runs promptly."""


class Agent(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # One line per request (every long poll) at INFO would drown the agent's own events.
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run(build: Callable[[], Agent], *, stopping: str, log: logging.Logger) -> None:
    """Configure logging, build the agent, start it and wait for a signal; then stop it.

    ``stopping`` is logged (after the signal's name) when a signal arrives, on ``log``:
    the command's own logger.
    """
    configure_logging()
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: %s", signal.Signals(signum).name, stopping)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    running = build()
    try:
        running.start()
        while not stop.wait(SIGNAL_POLL_SECONDS):
            pass
    finally:
        running.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
