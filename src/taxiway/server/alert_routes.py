"""The API of alerts: Alertmanager's webhook in, each service's alerts out.

Included by :func:`taxiway.server.app.create_app`.

- ``POST /v1/alerts`` takes Alertmanager's webhook notification (payload version 4,
  :class:`taxiway.wire.alerts.Webhook`) from a token of scope ``alerts`` (or ``admin``),
  and records each alert (:mod:`taxiway.store.alert_rows`): idempotent on its fingerprint
  and start time, resolved in place. An alert whose ``service`` label names no service of
  the inventory (or that has none: a platform alert) is recorded under no service and
  counted in the answer's ``unknown_services``, never refused: Alertmanager drops a
  notification answered 4xx, so refusing one unknown service would lose its whole group,
  the known services' alerts with it (and retrying would not make the service known).
  A payload that is not one is a 422 naming the field.
- ``GET /v1/services/{service}/alerts[?state=firing]``: the service's alerts, newest
  first, for its owners (and admins).
- ``GET /v1/alerts[?state=firing]``: every alert the token may read (an admin: all of
  them, those under no service too; an owner: its services').
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from taxiway.server import auth, problems
from taxiway.server.problems import BODY
from taxiway.store import protocol, records
from taxiway.wire import alerts

log = logging.getLogger(__name__)
TAGS: list[str | Enum] = ["alerts"]
State = Annotated[alerts.Status | None, Query(description="Only alerts in this state.")]


def recorded(alert: records.Alert) -> alerts.RecordedAlert:
    labels = alert.labels
    return alerts.RecordedAlert(
        fingerprint=alert.fingerprint,
        status=alert.status,
        service=alert.service,
        alertname=labels.get("alertname", ""),
        environment=labels.get("environment"),
        region=labels.get("region"),
        severity=labels.get("severity"),
        owner=alert.owner,
        labels=labels,
        annotations=alert.annotations,
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        generator_url=alert.generator_url,
        updated_at=alert.updated_at,
    )


def delivered(notification: alerts.Webhook, known: set[str]) -> list[records.DeliveredAlert]:
    """The notification's alerts, each under its service when the inventory has it."""
    return [
        records.DeliveredAlert(
            fingerprint=a.fingerprint,
            starts_at=a.startsAt,
            status=a.status,
            service=a.labels.get("service") if a.labels.get("service") in known else None,
            labels=dict(a.labels),
            annotations=dict(a.annotations),
            ends_at=a.ends_at,
            generator_url=a.generatorURL,
            owner=a.labels.get("owner"),
        )
        for a in notification.alerts
    ]


def router(store: protocol.Store) -> APIRouter:
    routes = APIRouter()

    @routes.post("/v1/alerts", responses=problems.responses(403, *BODY), tags=TAGS)
    async def post_alerts(notification: alerts.Webhook, token: auth.Principal) -> alerts.Received:
        """Record an Alertmanager webhook notification's alerts (scope ``alerts``)."""
        auth.require_alerts(token)
        if notification.truncatedAlerts:
            # Alertmanager kept these back (its receiver's max_alerts): they are not lost
            # there, but this notification cannot record them.
            log.warning(
                "an Alertmanager notification left out %d alerts (max_alerts); group %s",
                notification.truncatedAlerts,
                notification.groupKey[:200],
            )
        named = {a.labels.get("service", "") for a in notification.alerts}
        known = await run_in_threadpool(store.known_services, sorted(n for n in named if n))
        rows = delivered(notification, known)
        changed = await run_in_threadpool(store.record_alerts, rows, auth.actor(token))
        return alerts.Received(recorded=len(rows), changed=changed, unknown_services=sorted(named - known))

    @routes.get("/v1/services/{service}/alerts", responses=problems.responses(403, 404), tags=TAGS)
    def service_alerts(
        service: str, token: auth.Principal, state: State = None
    ) -> list[alerts.RecordedAlert]:
        """The service's alerts, newest first (``state=firing``: only those firing now)."""
        auth.require_service(token, service)
        store.service(service)
        return [recorded(a) for a in store.alerts(service, state)]

    @routes.get("/v1/alerts", responses=problems.responses(403), tags=TAGS)
    def every_alert(token: auth.Principal, state: State = None) -> list[alerts.RecordedAlert]:
        """Every alert the token may read, newest first: an admin's, all; an owner's, its services'."""
        if token.scope == "admin":
            return [recorded(a) for a in store.alerts(None, state)]
        if token.scope != "owner":
            raise problems.Forbidden("alerts are read with an owner or admin token")
        found = [a for service in token.services for a in store.alerts(service, state)]
        return [recorded(a) for a in sorted(found, key=lambda a: (a.starts_at, a.fingerprint), reverse=True)]

    return routes
