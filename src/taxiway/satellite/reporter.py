"""The reporter: sends the region's status to the control plane, on a period and on change.

Runs in a thread of its own so a slow or absent control plane never delays supervision.
Every ``report_every_seconds`` (a heartbeat, even with no services) and as soon as the
reconciler's reports say something new, it PUTs the latest snapshot to
``/v1/regions/{region}/status`` as ``{"cursor", "api", "ingress", "reports"}`` (``ingress``:
the region ingress's URL, which the edges route to; ``null`` when the satellite runs none). A failed PUT is
logged (once per distinct problem) and the next period simply sends the then-latest
snapshot; there is no queue to replay, since only the newest status matters.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from taxiway.client import http
from taxiway.errors import TaxiwayError
from taxiway.satellite import report
from taxiway.satellite.reconciler import Snapshot
from taxiway.satellite.settings import SatelliteSettings

log = logging.getLogger(__name__)
PUT_TIMEOUT_SECONDS = 10.0


class Reporter:
    def __init__(
        self,
        settings: SatelliteSettings,
        control_plane: http.ControlPlane,
        latest: Callable[[], Snapshot | None],
        cursor: Callable[[], int],
        api_url: str | None,
        ingress_url: str | None = None,
    ) -> None:
        self._settings = settings
        self._cp = control_plane
        self._latest = latest
        self._cursor = cursor
        self._api_url = api_url
        self._ingress_url = ingress_url
        self._wake = threading.Event()
        self._last_problem = ""
        self.sent = 0
        """Status PUTs the control plane accepted (observability, and tests wait on it)."""

    def wake(self) -> None:
        """Send soon: something changed."""
        self._wake.set()

    def body(self) -> dict[str, Any]:
        snapshot = self._latest()
        where = {"api": self._api_url, "ingress": self._ingress_url}
        if snapshot is None:  # the reconciler has not finished a step yet: a bare heartbeat
            return {"cursor": self._cursor(), **where, "reports": []}
        reports = report.stamped(snapshot.reports, snapshot.observed_at)
        return {"cursor": snapshot.cursor, **where, "reports": reports}

    def send_once(self) -> bool:
        path = f"/v1/regions/{quote(self._settings.region, safe='')}/status"
        try:
            self._cp.request("PUT", path, json=self.body(), timeout=PUT_TIMEOUT_SECONDS)
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
