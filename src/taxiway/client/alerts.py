"""The alerts the control plane recorded from Alertmanager, for ``taxiway alerts`` and ``status``.

:func:`fetch` reads one service's (``GET /v1/services/{service}/alerts``) or, without a
service, every alert the token may read (``GET /v1/alerts``); firing ones only unless
asked for all. Each item is read with :class:`taxiway.wire.alerts.RecordedAlert`, the
class the control plane answers with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pydantic

from taxiway.client import status
from taxiway.client.http import ControlPlane
from taxiway.errors import ProtocolError
from taxiway.wire.alerts import RecordedAlert


def fetch(cp: ControlPlane, service: str | None = None, *, firing_only: bool = True) -> list[RecordedAlert]:
    """The alerts of ``service`` (None: every one the token may read), newest first."""
    path = f"/v1/services/{service}/alerts" if service is not None else "/v1/alerts"
    answer = cp.get(path, state="firing" if firing_only else None)
    if not isinstance(answer, list):
        raise ProtocolError(f"GET {path} answered no list")
    try:
        return [RecordedAlert.model_validate(item) for item in answer]
    except pydantic.ValidationError as exc:
        raise ProtocolError(f"GET {path} answered an alert this client cannot read: {exc}") from exc


def firing_in(alerts: Sequence[RecordedAlert], where: status.RegionStatus) -> list[dict[str, Any]]:
    """The firing alerts of one status entry's service, environment and region, as JSON
    (an alert without an ``environment`` label belongs to every environment of its region)."""
    return [
        a.model_dump(mode="json")
        for a in alerts
        if a.status == "firing"
        and a.service == where.service
        and a.region == where.region
        and a.environment in (None, where.environment)
    ]
