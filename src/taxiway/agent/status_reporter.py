"""Sends an agent's newest status to the control plane, on a period and on change.

The loop a satellite's and an edge's reporter share (:mod:`taxiway.satellite.status_sender`,
:mod:`taxiway.edge.status_sender`); each says where to PUT and what the body is. It runs in a
thread of its own so a slow or absent control plane never delays the agent's real work.
Every ``every_seconds`` (a heartbeat) and as soon as :meth:`StatusReporter.wake` is
called, it PUTs the then-newest body. A failed PUT is logged once per distinct problem
and the next period simply sends the then-newest body: only the newest status matters,
so there is no queue to replay.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from taxiway.client import http
from taxiway.errors import TaxiwayError

PUT_TIMEOUT_SECONDS = 10.0

Body = Callable[[], dict[str, Any] | None]
"""The status to send now, or ``None`` when there is nothing to send yet."""


class StatusReporter:
    def __init__(
        self,
        control_plane: http.ControlPlane,
        path: str,
        body: Body,
        every_seconds: float,
        *,
        log: logging.Logger,
    ) -> None:
        """``log``: the agent's own logger, so each line says whose status it is about."""
        self._cp = control_plane
        self._path = path
        self._body = body
        self._every_seconds = every_seconds
        self._log = log
        self._wake = threading.Event()
        self._last_problem = ""
        self.sent = 0
        """Status PUTs the control plane accepted (observability, and tests wait on it)."""

    def wake(self) -> None:
        """Send soon: something changed."""
        self._wake.set()

    def send_once(self) -> bool:
        body = self._body()
        if body is None:
            return False
        try:
            self._cp.request("PUT", self._path, json=body, timeout=PUT_TIMEOUT_SECONDS)
        except TaxiwayError as exc:
            if str(exc) != self._last_problem:
                self._log.warning("cannot report status: %s; trying again next period", exc)
                self._last_problem = str(exc)
            return False
        if self._last_problem:
            self._log.info("status reported again")
            self._last_problem = ""
        self.sent += 1
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.send_once()
            except Exception:  # a bug here must not end the heartbeats
                self._log.exception("reporting status failed")
            self._wake.wait(self._every_seconds)
            self._wake.clear()
