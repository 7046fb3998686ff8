"""A PoP's global load-balancing config, as the control plane sends it and an edge reads it. Pure.

``GET /v1/pops/{pop}/config`` answers a :class:`PopConfig`; the edge caches the same
shape. This module checks the shape only: what HAProxy may safely be given (DNS labels,
region names, paths) is the edge's check on top (:mod:`taxiway.plan.edge.popconfig`), and so
is leaving one malformed service out rather than the whole answer, which is why
:func:`parse_header` and :func:`parse_service` are apart. Fields an edge does not know
are ignored; fields a control plane may leave out take the defaults below.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator

from taxiway.errors import ProtocolError
from taxiway.wire import located

Steering = Literal["dynamic_latency", "failover"]
STEERINGS: tuple[Steering, ...] = ("dynamic_latency", "failover")
Protocol = Literal["tcp", "http", "https"]
PROTOCOLS: tuple[Protocol, ...] = ("tcp", "http", "https")


def _seconds(value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"expected a positive number of seconds, got {value!r}")
    return float(value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 100:
        raise ValueError(f"expected a whole number from 1 to 100, got {value!r}")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"expected text, got {value!r}")
    return value


def _protocol(value: Any) -> Protocol:
    for protocol in PROTOCOLS:
        if value == protocol:
            return protocol
    raise ValueError(f"expected one of {', '.join(PROTOCOLS)}, got {value!r}")


def _steering(value: Any) -> Steering:
    for steering in STEERINGS:
        if value == steering:
            return steering
    raise ValueError(f"expected dynamic_latency or failover, got {value!r}")


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _regions(value: Any) -> Any:
    value = value or []
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a list of regions, got {value!r}")
    return value


def _list(value: Any) -> Any:
    if not isinstance(value, list | tuple):
        raise ValueError(f"expected a list, got {value!r}")
    return value


def _version(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"version {value!r} is not a whole number")
    return value


Seconds = Annotated[float, PlainValidator(_seconds)]
Count = Annotated[int, PlainValidator(_count)]
Text = Annotated[str, PlainValidator(_text)]
_MODEL = ConfigDict(frozen=True, extra="ignore")


class Monitor(BaseModel):
    """A PoP's health check of each pool; durations in seconds."""

    model_config = _MODEL

    protocol: Annotated[Protocol, PlainValidator(_protocol)] = "tcp"
    path: str = "/health"
    interval: Seconds
    timeout: Seconds
    consecutive_up: Count
    consecutive_down: Count
    expected_codes: str = "2xx"


class Pool(BaseModel):
    """One region's origin of a service, as the PoP reaches it."""

    model_config = _MODEL

    region: str
    ingress: str | None = None
    """``http://IP:PORT`` of the region's ingress HAProxy; ``None`` until one is known."""
    monitor_path: str | None = Field(default=None, exclude_if=lambda value: value is None)
    """The monitor path of the revision the region serves, where it is not the service's;
    sent only then."""


class Service(BaseModel):
    """One service's global load balancing at this PoP."""

    model_config = _MODEL

    service: Text
    environment: Annotated[str, BeforeValidator(lambda value: str(value or "production"))] = "production"
    steering: Annotated[Steering, PlainValidator(_steering)] = "dynamic_latency"
    failover_order: Annotated[tuple[str, ...], BeforeValidator(_regions)] = ()
    fallback_region: str | None = None
    monitor: Monitor
    block_health_endpoint: Annotated[bool, PlainValidator(_flag)] = False
    pools: Annotated[tuple[Pool, ...], BeforeValidator(_list)] = ()


class PopConfig(BaseModel):
    """The whole answer: ``version`` identifies its content (a hash, not a counter)."""

    model_config = _MODEL

    pop: str
    version: Annotated[int, PlainValidator(_version)]
    services: tuple[Service, ...] = ()


class _Header(BaseModel):
    """The answer without looking into its services (each is checked on its own)."""

    model_config = _MODEL

    pop: str | None = None
    version: Annotated[int, PlainValidator(_version)]
    services: Annotated[tuple[Any, ...], BeforeValidator(_list)]


def parse_header(answer: Any, pop: str) -> tuple[int, tuple[Any, ...]]:
    """The version and the raw services of an answer for ``pop``; ProtocolError if it is
    not one."""
    what = f"the config of PoP {pop}"
    if not isinstance(answer, dict):
        raise ProtocolError(f"{what}: expected a JSON object")
    if answer.get("pop", pop) != pop:
        raise ProtocolError(f"{what}: the answer is for PoP {answer.get('pop')!r}")
    try:
        header = _Header.model_validate(answer)
    except pydantic.ValidationError as exc:
        fault = located.first(exc)
        if fault.field == "services":
            raise ProtocolError(f"{what}: services is not a list") from None
        if fault.missing is not None:
            raise ProtocolError(f"{what}: {fault.field} is missing") from None
        raise ProtocolError(f"{what}: {fault.message}") from None
    return header.version, header.services


class BadService(ValueError):
    """One service of an answer is not the shape; the message names the field."""


def parse_service(data: Any) -> Service:
    """One service of an answer; :class:`BadService` naming the field if it is not one."""
    if not isinstance(data, dict):
        raise BadService(f"expected an object, got {data!r}")
    try:
        return Service.model_validate(data)
    except pydantic.ValidationError as exc:
        fault = located.first(exc)
        raise BadService(f"{fault.field}: {fault.message}") from None
