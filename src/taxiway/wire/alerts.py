"""Alerts on the wire: Alertmanager's webhook in, the control plane's record of an alert out. Pure.

:class:`Webhook` is what Alertmanager 0.25's ``webhook_config`` POSTs to ``/v1/alerts``
(payload ``version`` ``"4"``); it is read strictly, so a payload that is not one is a 422
naming the field (Alertmanager drops a 4xx and retries a 5xx). Fields Alertmanager may add
in later versions are ignored; those it has keep its spelling (``startsAt``).
:class:`RecordedAlert` is one alert as the control plane keeps it:
``GET /v1/services/{service}/alerts`` answers a list of them and the CLI
(:mod:`taxiway.client.alerts`) reads that list with the same class.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_ALERTS = 1000
"""Alerts in one notification. Alertmanager sends a group's alerts in one POST; the
control plane's rules group by service, environment, region, alertname and severity, so a
group holds few (``max_alerts`` in the receiver keeps a misrouted one under this)."""
MAX_LABELS = 64
MAX_LABEL_NAME = 128
MAX_LABEL_VALUE = 1024
MAX_ANNOTATION_VALUE = 8192

NO_NUL = r"^[^\x00]*$"
"""PostgreSQL's text and JSONB hold no NUL character: refused here, with the field named."""

Status = Literal["firing", "resolved"]
"""An alert's state: ``firing`` until Alertmanager says ``resolved``."""

Text = Annotated[str, Field(max_length=MAX_LABEL_VALUE, pattern=NO_NUL)]
LabelName = Annotated[
    str, Field(min_length=1, max_length=MAX_LABEL_NAME, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
]
Labels = Annotated[dict[LabelName, Text], Field(max_length=MAX_LABELS)]
Annotations = Annotated[
    dict[LabelName, Annotated[str, Field(max_length=MAX_ANNOTATION_VALUE, pattern=NO_NUL)]],
    Field(max_length=MAX_LABELS),
]

ZERO_TIME_YEAR = 1
"""Go's zero time (``0001-01-01T00:00:00Z``) is Alertmanager's "no end yet"."""


def _aware(moment: datetime.datetime) -> datetime.datetime:
    if moment.tzinfo is None:
        raise ValueError("a time with its zone (RFC 3339), like 2026-12-01T18:00:00Z")
    return moment.astimezone(datetime.UTC)


AwareTime = Annotated[datetime.datetime, AfterValidator(_aware)]


class WebhookAlert(BaseModel):
    """One alert of a notification, as Alertmanager sends it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Status
    labels: Labels
    annotations: Annotations = Field(default_factory=dict)
    startsAt: AwareTime
    endsAt: AwareTime | None = None
    generatorURL: Annotated[str, Field(max_length=4096, pattern=NO_NUL)] = ""
    fingerprint: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[0-9A-Za-z]+$")]

    @property
    def ends_at(self) -> datetime.datetime | None:
        """When it ended (or is expected to); None for Go's zero time."""
        if self.endsAt is None or self.endsAt.year <= ZERO_TIME_YEAR:
            return None
        return self.endsAt


class Webhook(BaseModel):
    """One notification of Alertmanager's webhook receiver (payload version 4)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal["4"]
    groupKey: Annotated[str, Field(max_length=8192)] = ""
    truncatedAlerts: Annotated[int, Field(ge=0)] = 0
    status: Status
    receiver: Annotated[str, Field(max_length=256)] = ""
    groupLabels: Labels = Field(default_factory=dict)
    commonLabels: Labels = Field(default_factory=dict)
    commonAnnotations: Annotations = Field(default_factory=dict)
    externalURL: Annotated[str, Field(max_length=4096)] = ""
    alerts: Annotated[list[WebhookAlert], Field(max_length=MAX_ALERTS)]


class Received(BaseModel):
    """What ``POST /v1/alerts`` answers: how many alerts it recorded, and which of them
    name no service of the inventory (recorded under no service, see docs/protocol.md)."""

    model_config = ConfigDict(frozen=True)

    recorded: int
    changed: int
    """Alerts that were new, or newly resolved (the rest repeated what was recorded)."""
    unknown_services: list[str]
    """``service`` labels that name no service of the inventory ("" for alerts without one)."""


class RecordedAlert(BaseModel):
    """One alert as the control plane recorded it: by fingerprint and start time."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    fingerprint: str
    status: Status
    service: str | None
    """The ``service`` label when it names a service of the inventory; None otherwise."""
    alertname: str
    environment: str | None
    region: str | None
    severity: str | None
    owner: str | None
    """The ``owner`` label (the rules copy the inventory's owner there)."""
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime.datetime
    ends_at: datetime.datetime | None
    generator_url: str
    updated_at: datetime.datetime
    """When the control plane last changed or received it."""
