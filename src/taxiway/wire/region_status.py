"""A satellite's status PUT: one report per (service, environment), as sent and as read. Pure.

The satellite builds :class:`Report` and :class:`InstanceReport` after each reconcile
(:mod:`taxiway.plan.region.status_report`) and PUTs a :class:`RegionStatus`; the control plane
keeps each report as sent and ``GET /v1/status`` answers it back through the same models
(a :class:`StatusEntry` per report), where the CLI reads it (:mod:`taxiway.plan.readiness`).
Reading is lenient (see :mod:`taxiway.wire.lenient`): an unknown field is ignored and a
field of the wrong type is unknown, so satellites of another version never stop
``taxiway status``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from taxiway.wire import lenient

Phase = Literal["ready", "progressing", "failed", "removed"]
PHASES: tuple[Phase, ...] = ("ready", "progressing", "failed", "removed")
InstanceState = Literal["running", "exited", "starting", "stopping"]
_MODEL = ConfigDict(frozen=True, extra="ignore")


class InstanceReport(BaseModel):
    """One instance of the service the region runs, old revisions included while they drain."""

    model_config = _MODEL

    id: Annotated[str, lenient.BeforeText] = "?"
    revision: lenient.Whole = None
    datacenter: lenient.Text = None
    node: lenient.Text = None
    pid: lenient.Whole = None
    endpoint: lenient.Text = None
    state: lenient.Text = None
    """One of :data:`InstanceState` as a satellite sends it."""
    ready: lenient.Flag = False
    in_rotation: lenient.Flag = False
    """A server of the region ingress that takes traffic now."""
    restarts: Annotated[int, lenient.BeforeCount] = 0
    reason: lenient.Text = None
    log_tail: lenient.Lines = Field(default_factory=list)
    """The last lines of a failing instance's log; empty for the others."""


class Report(BaseModel):
    """What one region says of one (service, environment)."""

    model_config = _MODEL

    revision: lenient.Whole = None
    desired_instances: lenient.Whole = None
    ready_instances: lenient.Whole = None
    """Ready instances *of* ``revision``."""
    phase: lenient.Text = None
    """One of :data:`PHASES` as a satellite sends it."""
    message: Annotated[str, lenient.BeforeMessage] = ""
    observed_at: lenient.Text = Field(default=None, exclude_if=lambda value: value is None)
    """When the satellite observed it (ISO 8601, UTC); stamped just before sending."""
    instances: Annotated[list[InstanceReport], lenient.Objects] = Field(default_factory=list)


class ServiceReport(BaseModel):
    """One entry of ``reports``."""

    model_config = _MODEL

    service: str
    environment: str
    report: Report


class RegionStatus(BaseModel):
    """The body of ``PUT /v1/regions/{region}/status``: a heartbeat even with no reports."""

    model_config = _MODEL

    cursor: int
    api: str | None = None
    """The satellite's own API (logs), ``null`` when it runs none."""
    ingress: str | None = None
    """The region ingress's URL, which the edges route to; ``null`` when it runs none."""
    reports: list[ServiceReport] = Field(default_factory=list)


class StatusEntry(BaseModel):
    """One entry of ``GET /v1/status``: a region's latest report on one (service, environment)."""

    model_config = _MODEL

    service: str
    environment: str
    region: str
    report: Report
    reported_at: lenient.Text = None
    """When the control plane received it (ISO 8601); ``null`` when unknown."""
