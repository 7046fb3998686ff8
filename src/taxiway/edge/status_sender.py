"""The reporter: sends the PoP's status to the control plane, on a period and on change.

Every ``report_every_seconds`` (a heartbeat, even with no services) and as soon as who
serves or which pools are healthy changes, it PUTs the latest snapshot
(:mod:`taxiway.plan.edge.status_report`) to ``/v1/pops/{pop}/status``; before the controller's first
step there is nothing to send. The loop, its thread and its handling of failed PUTs are
the satellite's too: :class:`taxiway.agent.status_reporter.StatusReporter`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from taxiway.agent import status_reporter
from taxiway.client import http
from taxiway.edge.settings import EdgeSettings
from taxiway.plan.edge import status_report

log = logging.getLogger(__name__)


class Reporter(status_reporter.StatusReporter):
    def __init__(
        self,
        settings: EdgeSettings,
        control_plane: http.ControlPlane,
        latest: Callable[[], status_report.Snapshot | None],
    ) -> None:
        self._latest = latest
        path = f"/v1/pops/{quote(settings.pop, safe='')}/status"
        super().__init__(control_plane, path, self.body, settings.report_every_seconds, log=log)

    def body(self) -> dict[str, Any] | None:
        snapshot = self._latest()
        return None if snapshot is None else snapshot.body
