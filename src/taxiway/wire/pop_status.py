"""A PoP's status PUT: per service, its pools in order, their health and RTT, who serves. Pure.

The edge builds :class:`PopStatus` after every step (:mod:`taxiway.edge.report`) and PUTs
it to ``/v1/pops/{pop}/status``; the control plane keeps each PoP's latest as sent and
``GET /v1/glb`` answers them back with ``pop`` and ``reported_at`` (a :class:`PopEntry`
each), where the CLI reads
each service with :class:`ServiceStatus` (:mod:`taxiway.client.glb`). Reading is lenient
(see :mod:`taxiway.wire.lenient`), as for the satellites' reports.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from taxiway.wire import lenient

_MODEL = ConfigDict(frozen=True, extra="ignore")


class PoolStatus(BaseModel):
    """One region's pool of a service, as this PoP checks it."""

    model_config = _MODEL

    region: Annotated[str, lenient.BeforeText]
    healthy: lenient.Flag = False
    rtt_ms: lenient.Number = None
    """The moving average of the PoP's check durations; ``null`` until a check passed."""
    serving: lenient.Flag = False
    status: lenient.Text = None
    """HAProxy's ``UP``/``DOWN``..., ``no ingress`` or ``no haproxy``."""


class ServiceStatus(BaseModel):
    """One service at this PoP: pools in the order the PoP uses them."""

    model_config = _MODEL

    service: str
    environment: lenient.Text = None
    steering: lenient.Text = None
    fallback_region: lenient.Text = None
    serving: lenient.Text = None
    """The region HAProxy sends new requests to now."""
    via_fallback: lenient.Flag = False
    pools: Annotated[list[PoolStatus], lenient.Objects] = Field(default_factory=list)


class PopStatus(BaseModel):
    """The body of ``PUT /v1/pops/{pop}/status``."""

    model_config = _MODEL

    services: list[ServiceStatus] = Field(default_factory=list)
    haproxy: dict[str, Any] = Field(default_factory=dict)
    """The PoP's HAProxy: ``pid``, ``config_version``, ``listen``."""
    edge_metrics: lenient.Text = None
    """The edge process's own ``/metrics`` URL (``None``: not told; older edges)."""


class PopEntry(BaseModel):
    """One entry of ``GET /v1/glb``: a PoP's latest report, services filtered to the reader's."""

    model_config = _MODEL

    pop: str
    reported_at: str
    haproxy: dict[str, Any] | None = None
    edge_metrics: lenient.Text = None
    """Where the edge serves its own metrics, as it reported."""
    services: list[ServiceStatus] = Field(default_factory=list)
