"""The reporter: sends the region's status to the control plane, on a period and on change.

Every ``report_every_seconds`` (a heartbeat, even with no services) and as soon as the
reconciler's reports say something new, it PUTs the latest snapshot to
``/v1/regions/{region}/status`` as ``{"cursor", "api", "ingress", "reports"}`` (``ingress``:
the region ingress's URL, which the edges route to; ``null`` when the satellite runs none).
The loop, its thread and its handling of failed PUTs are the edge's too:
:class:`taxiway.agent.status_reporter.StatusReporter`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from taxiway.agent import status_reporter
from taxiway.client import http
from taxiway.plan.region import status_report
from taxiway.satellite.reconcile_loop import Snapshot
from taxiway.satellite.settings import SatelliteSettings

log = logging.getLogger(__name__)


class Reporter(status_reporter.StatusReporter):
    def __init__(
        self,
        settings: SatelliteSettings,
        control_plane: http.ControlPlane,
        latest: Callable[[], Snapshot | None],
        cursor: Callable[[], int],
        api_url: str | None,
        ingress_url: str | None = None,
    ) -> None:
        self._latest = latest
        self._cursor = cursor
        self._api_url = api_url
        self._ingress_url = ingress_url
        path = f"/v1/regions/{quote(settings.region, safe='')}/status"
        super().__init__(control_plane, path, self.body, settings.report_every_seconds, log=log)

    def body(self) -> dict[str, Any]:
        snapshot = self._latest()
        where = {"api": self._api_url, "ingress": self._ingress_url}
        if snapshot is None:  # the reconciler has not finished a step yet: a bare heartbeat
            return {"cursor": self._cursor(), **where, "reports": []}
        reports = status_report.stamped(snapshot.reports, snapshot.observed_at)
        return {"cursor": snapshot.cursor, **where, "reports": reports}
