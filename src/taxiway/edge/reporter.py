"""The reporter: sends the PoP's status to the control plane, on a period and on change.

Runs in a thread of its own so a slow or absent control plane never delays steering.
Every ``report_every_seconds`` (a heartbeat, even with no services) and as soon as who
serves or which pools are healthy changes, it PUTs the latest snapshot
(:mod:`taxiway.edge.report`) to ``/v1/pops/{pop}/status``. A failed PUT is logged once
per distinct problem; the next period sends the then-latest snapshot (only the newest
status matters, so there is nothing to replay).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from urllib.parse import quote

from taxiway.client import http
from taxiway.edge import report
from taxiway.edge.settings import EdgeSettings
from taxiway.errors import TaxiwayError

log = logging.getLogger(__name__)
PUT_TIMEOUT_SECONDS = 10.0


class Reporter:
    def __init__(
        self,
        settings: EdgeSettings,
        control_plane: http.ControlPlane,
        latest: Callable[[], report.Snapshot | None],
    ) -> None:
        self._settings = settings
        self._cp = control_plane
        self._latest = latest
        self._wake = threading.Event()
        self._last_problem = ""
        self.sent = 0
        """Status PUTs the control plane accepted (observability, and tests wait on it)."""

    def wake(self) -> None:
        """Send soon: something changed."""
        self._wake.set()

    def send_once(self) -> bool:
        snapshot = self._latest()
        if snapshot is None:
            return False
        path = f"/v1/pops/{quote(self._settings.pop, safe='')}/status"
        try:
            self._cp.request("PUT", path, json=snapshot.body, timeout=PUT_TIMEOUT_SECONDS)
        except TaxiwayError as exc:
            if str(exc) != self._last_problem:
                log.warning("cannot report status: %s; trying again next period", exc)
                self._last_problem = str(exc)
            return False
        if self._last_problem:
            log.info("status reported again")
            self._last_problem = ""
        self.sent += 1
        return True

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.send_once()
            except Exception:  # a bug here must not end the heartbeats
                log.exception("reporting status failed")
            self._wake.wait(self._settings.report_every_seconds)
            self._wake.clear()
